package kes.testingest;

import java.util.Set;
import org.elasticsearch.cluster.metadata.DataStream;
import org.elasticsearch.features.FeatureSpecification;
import org.elasticsearch.features.NodeFeature;

/**
 * Test-only: advertises the node feature "data stream failure store" that the
 * data-streams module would (8.19 and later), which the integ-test-zip does not ship.
 * Without it the server never redirects a failed document to a data stream's failure
 * store; with it, the redirection is the server's own code (bulk and ingest, in core).
 */
public final class FailureStoreFeature implements FeatureSpecification {
  @Override
  public Set<NodeFeature> getFeatures() {
    return Set.of(DataStream.DATA_STREAM_FAILURE_STORE_FEATURE);
  }
}
