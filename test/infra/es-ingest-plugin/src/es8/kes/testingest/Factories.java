package kes.testingest;

import java.util.Map;
import org.elasticsearch.ingest.Processor;

/** Elasticsearch 8: Processor.Factory#create takes the factories, tag, description and config. */
final class Factories {
  private Factories() {}

  static Processor.Factory of(TestIngestPlugin.Maker maker) {
    return (Map<String, Processor.Factory> factories, String tag, String description, Map<String, Object> config) ->
        maker.make(tag, description, config);
  }
}
