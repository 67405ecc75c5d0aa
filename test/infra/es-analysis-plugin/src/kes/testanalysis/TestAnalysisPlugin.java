package kes.testanalysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.email.UAX29URLEmailTokenizer;
import org.apache.lucene.analysis.pattern.PatternCaptureGroupTokenFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

/**
 * Test-only: the three analysis components the .security index's "email" analyzer
 * needs (tokenizer uax_url_email, filters pattern_capture and unique). The
 * integ-test-zip lacks the analysis-common module that normally provides them, so
 * creating an API key fails without this. The classes come from the Lucene jar the
 * distribution already ships.
 */
public final class TestAnalysisPlugin extends Plugin implements AnalysisPlugin {

  @Override
  public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
    return Map.of("uax_url_email", (indexSettings, env, name, settings) ->
        TokenizerFactory.newFactory(name, UAX29URLEmailTokenizer::new));
  }

  @Override
  public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
    return Map.of(
        "pattern_capture", AnalysisPlugin.requiresAnalysisSettings(TestAnalysisPlugin::patternCapture),
        "unique", (indexSettings, env, name, settings) -> new AbstractTokenFilterFactory(name, settings) {
          @Override
          public TokenStream create(TokenStream input) {
            return new UniqueTokenFilter(input);
          }
        });
  }

  private static TokenFilterFactory patternCapture(
      org.elasticsearch.index.IndexSettings indexSettings,
      org.elasticsearch.env.Environment env,
      String name,
      Settings settings) {
    List<Pattern> patterns = new ArrayList<>();
    for (String regex : settings.getAsList("patterns")) patterns.add(Pattern.compile(regex));
    boolean preserveOriginal = settings.getAsBoolean("preserve_original", true);
    Pattern[] compiled = patterns.toArray(new Pattern[0]);
    return new AbstractTokenFilterFactory(name, settings) {
      @Override
      public TokenStream create(TokenStream input) {
        return new PatternCaptureGroupTokenFilter(input, preserveOriginal, compiled);
      }
    };
  }
}
