package io.visualsearch.embeddings;

import io.visualsearch.config.Config;
import io.visualsearch.pipeline.KafkaSettings;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.common.errors.AuthorizationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer group ids on the broker, for a deployment that has no followed-version record yet:
 * its groups of earlier versions tell whether the version served now is a step back.
 */
final class BrokerConsumerGroups implements Supplier<Collection<String>> {

  private static final Logger log = LoggerFactory.getLogger(BrokerConsumerGroups.class);

  private final Config config;

  BrokerConsumerGroups(Config config) {
    this.config = config;
  }

  @Override
  public Collection<String> get() {
    try (Admin admin = Admin.create(KafkaSettings.common(config))) {
      return admin.listGroups().all().get(30, TimeUnit.SECONDS).stream().map(GroupListing::groupId).toList();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AuthorizationException denied) {
        // A principal allowed to consume but not to list groups: no history to go by, which is what
        // a new deployment has too.
        log.warn("cannot list consumer groups ({}): a rollback before this deployment kept its record will not be"
            + " detected", denied.getMessage());
        return List.of();
      }
      throw new IllegalStateException("cannot list consumer groups: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("cannot list consumer groups: no answer in 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while listing consumer groups", e);
    }
  }
}
