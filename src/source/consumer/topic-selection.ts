/**
 * Which topics a worker subscribes to: an explicit list plus every existing topic
 * matching a pattern. kafkajs resolves a RegExp only once, at subscribe time, so the
 * reader re-evaluates this on an interval to pick up topics created later.
 */
export interface TopicSelection {
  readonly topics: readonly string[];
  readonly pattern: RegExp | undefined;
}

export function selectTopics(selection: TopicSelection, existing: readonly string[]): string[] {
  const chosen = new Set(selection.topics);
  if (selection.pattern) {
    for (const topic of existing) {
      // Internal topics (__consumer_offsets, __transaction_state) are never data.
      if (topic.startsWith("__")) continue;
      selection.pattern.lastIndex = 0;
      if (selection.pattern.test(topic)) chosen.add(topic);
    }
  }
  return [...chosen].sort();
}

export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((topic, i) => topic === b[i]);
}
