package kes.testingest;

import java.util.Map;
import org.elasticsearch.cluster.metadata.ProjectId;
import org.elasticsearch.ingest.Processor;

/** Elasticsearch 9: Processor.Factory#create also takes the project id. */
final class Factories {
  private Factories() {}

  static Processor.Factory of(TestIngestPlugin.Maker maker) {
    return (Map<String, Processor.Factory> factories, String tag, String description, Map<String, Object> config, ProjectId project) ->
        maker.make(tag, description, config);
  }
}
