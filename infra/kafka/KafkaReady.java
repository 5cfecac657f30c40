// Readiness probe used by infra/kafka/start.sh: exits 0 once the broker at
// args[0] answers admin requests the way a client (kafkajs) needs: it returns
// cluster metadata with at least one broker and an active controller, and a
// validate-only CreateTopics (the controller path of createTopics) succeeds.
// An open TCP port is not enough: a KRaft broker binds its listener before it
// has caught up with the metadata log and been unfenced.
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.TopicExistsException;

public final class KafkaReady {
  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: KafkaReady host:port");
      System.exit(2);
    }
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "clearsim-readiness-probe");
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    p.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");
    Admin admin = Admin.create(p);
    try {
      DescribeClusterResult cluster = admin.describeCluster();
      Collection<Node> nodes = cluster.nodes().get(5, TimeUnit.SECONDS);
      Node controller = cluster.controller().get(5, TimeUnit.SECONDS);
      if (nodes.isEmpty() || controller == null || controller.isEmpty()) {
        throw new IllegalStateException("no brokers or no controller in metadata yet");
      }
      NewTopic probe = new NewTopic("clearsim-readiness-probe", 1, (short) 1);
      try {
        admin.createTopics(List.of(probe), new CreateTopicsOptions().validateOnly(true))
            .all().get(5, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
      System.out.println("ready: cluster " + cluster.clusterId().get(5, TimeUnit.SECONDS)
          + ", " + nodes.size() + " broker(s)");
      admin.close(Duration.ofSeconds(2));
      System.exit(0);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      System.err.println("not ready: " + cause);
      admin.close(Duration.ZERO);
      System.exit(1);
    }
  }
}
