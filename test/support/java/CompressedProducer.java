import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces records the way the Java client compresses them (snappy in the xerial
 * framing, lz4 frames, zstd), so the worker is tested on batches librdkafka does not
 * write. Usage: CompressedProducer BROKERS TOPIC CODEC[,CODEC...] COUNT; record i of
 * each codec has the value {"codec":"java-CODEC","n":i}. Run as a single-file source
 * with the broker's libs on the class path (one JVM start for every codec).
 */
public class CompressedProducer {
  public static void main(String[] args) {
    for (String codec : args[2].split(",")) produce(args[0], args[1], codec, Integer.parseInt(args[3]));
  }

  static void produce(String brokers, String topic, String codec, int count) {
    Properties props = new Properties();
    props.put("bootstrap.servers", brokers);
    props.put("compression.type", codec);
    props.put("acks", "all");
    props.put("linger.ms", "50");
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (int i = 0; i < count; i++) {
        String value = "{\"codec\":\"java-" + codec + "\",\"n\":" + i + "}";
        producer.send(new ProducerRecord<>(topic, null, value));
      }
      producer.flush();
    }
  }
}
