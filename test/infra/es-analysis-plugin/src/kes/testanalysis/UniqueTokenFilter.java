package kes.testanalysis;

import java.io.IOException;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/** Drops every token whose text was already seen in this stream (the "unique" filter). */
final class UniqueTokenFilter extends TokenFilter {
  private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
  private final CharArraySet seen = new CharArraySet(8, false);

  UniqueTokenFilter(TokenStream input) {
    super(input);
  }

  @Override
  public boolean incrementToken() throws IOException {
    while (input.incrementToken()) {
      char[] copy = new char[term.length()];
      System.arraycopy(term.buffer(), 0, copy, 0, copy.length);
      if (seen.add(copy)) return true;
    }
    return false;
  }

  @Override
  public void reset() throws IOException {
    super.reset();
    seen.clear();
  }
}
