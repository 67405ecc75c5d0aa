package kes.testingest;

import java.util.Map;
import org.elasticsearch.index.mapper.Mapper;
import org.elasticsearch.index.mapper.TextFieldMapper;
import org.elasticsearch.ingest.AbstractProcessor;
import org.elasticsearch.ingest.ConfigurationUtils;
import org.elasticsearch.ingest.IngestDocument;
import org.elasticsearch.ingest.Processor;
import org.elasticsearch.plugins.IngestPlugin;
import org.elasticsearch.plugins.MapperPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Test-only: three ingest processors with the names, options and failures of their
 * ingest-common namesakes, which the integ-test-zip does not ship, so that the tests
 * can run a pipeline that enriches documents and pipelines that fail them on the real
 * server. Only the options below are understood (no templates, no "if", no
 * "ignore_missing").
 *
 *   set    {"field": "a.b", "value": anything}   sets the field
 *   rename {"field": "a", "target_field": "b"}   fails the document (IllegalArgumentException)
 *                                                when "a" is missing, as the real one does
 *   fail   {"message": "text"}                    fails every document (a RuntimeException,
 *                                                as the real FailProcessorException is)
 *
 * And the field type "match_only_text" (from the mapper-extras module, also missing),
 * parsed as plain "text": the mapping of a data stream's failure-store indices uses it
 * for error.message, so without it no data stream with a failure store can be created.
 * It stores and searches the same; only match_only_text's smaller index is not there.
 */
public final class TestIngestPlugin extends Plugin implements IngestPlugin, MapperPlugin {

  @Override
  public Map<String, Mapper.TypeParser> getMappers() {
    return Map.of("match_only_text", TextFieldMapper.PARSER);
  }

  @Override
  public Map<String, Processor.Factory> getProcessors(Processor.Parameters parameters) {
    return Map.of(
        "set", Factories.of((tag, description, config) -> new Set(tag, description,
            ConfigurationUtils.readStringProperty("set", tag, config, "field"),
            ConfigurationUtils.readObject("set", tag, config, "value"))),
        "rename", Factories.of((tag, description, config) -> new Rename(tag, description,
            ConfigurationUtils.readStringProperty("rename", tag, config, "field"),
            ConfigurationUtils.readStringProperty("rename", tag, config, "target_field"))),
        "fail", Factories.of((tag, description, config) -> new Fail(tag, description,
            ConfigurationUtils.readStringProperty("fail", tag, config, "message"))));
  }

  /** What a processor factory does, without the arguments that differ between versions. */
  interface Maker {
    Processor make(String tag, String description, Map<String, Object> config) throws Exception;
  }

  static final class Set extends AbstractProcessor {
    private final String field;
    private final Object value;

    Set(String tag, String description, String field, Object value) {
      super(tag, description);
      this.field = field;
      this.value = value;
    }

    @Override
    public IngestDocument execute(IngestDocument document) {
      document.setFieldValue(field, value);
      return document;
    }

    @Override
    public String getType() {
      return "set";
    }
  }

  static final class Rename extends AbstractProcessor {
    private final String field;
    private final String target;

    Rename(String tag, String description, String field, String target) {
      super(tag, description);
      this.field = field;
      this.target = target;
    }

    @Override
    public IngestDocument execute(IngestDocument document) {
      if (!document.hasField(field, true)) {
        throw new IllegalArgumentException("field [" + field + "] doesn't exist");
      }
      Object value = document.getFieldValue(field, Object.class);
      document.removeField(field);
      document.setFieldValue(target, value);
      return document;
    }

    @Override
    public String getType() {
      return "rename";
    }
  }

  /** Thrown by "fail": an unchecked exception of its own type, like ingest-common's. */
  static final class FailProcessorException extends RuntimeException {
    FailProcessorException(String message) {
      super(message);
    }
  }

  static final class Fail extends AbstractProcessor {
    private final String message;

    Fail(String tag, String description, String message) {
      super(tag, description);
      this.message = message;
    }

    @Override
    public IngestDocument execute(IngestDocument document) {
      throw new FailProcessorException(message);
    }

    @Override
    public String getType() {
      return "fail";
    }
  }
}
