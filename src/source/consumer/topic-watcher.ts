/**
 * Re-reads the topic list of a pattern subscription on a timer and reports a change of
 * the matching set. Never rejects: a failed listing is logged and tried again next time.
 */
import type { Admin } from "kafkajs";
import type { Logger } from "pino";
import { describeError } from "../../errors.ts";
import { sameTopics, selectTopics, type TopicSelection } from "./topic-selection.ts";

export interface TopicWatcherHooks {
  /** The topics consumed now. */
  readonly current: () => readonly string[];
  /** False while a change is being applied or the reader stops: no new change then. */
  readonly idle: () => boolean;
  readonly changed: (topics: string[]) => Promise<void>;
}

export class TopicWatcher {
  readonly #selection: TopicSelection;
  readonly #admin: () => Admin | undefined;
  readonly #hooks: TopicWatcherHooks;
  readonly #logger: Logger;

  constructor(selection: TopicSelection, admin: () => Admin | undefined, hooks: TopicWatcherHooks, logger: Logger) {
    this.#selection = selection;
    this.#admin = admin;
    this.#hooks = hooks;
    this.#logger = logger;
  }

  /** The topics the selection takes now (a pattern needs the broker's list). */
  async resolve(): Promise<string[]> {
    const admin = this.#admin();
    const existing = this.#selection.pattern && admin ? await admin.listTopics() : [];
    return selectTopics(this.#selection, existing);
  }

  /** One look; resolves after the change (if any) was applied. Never rejects. */
  async refresh(): Promise<void> {
    if (!this.#hooks.idle()) return;
    let topics: string[];
    try {
      topics = await this.resolve();
    } catch (error) {
      this.#logger.warn({ err: describeError(error) }, "could not list topics; keeping the current subscription");
      return;
    }
    if (sameTopics(topics, this.#hooks.current()) || !this.#hooks.idle()) return;
    this.#logger.info({ before: this.#hooks.current(), after: topics }, "matching topics changed; re-subscribing");
    await this.#hooks.changed(topics).catch((error: unknown) => {
      this.#logger.error({ err: describeError(error) }, "re-subscribe failed unexpectedly");
    });
  }
}
