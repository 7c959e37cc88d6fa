// Metrics: replicad's counters, served at GET /metrics in the Prometheus
// text exposition format (version 0.0.4). Counters are atomics bumped by
// sessions on pool threads; rendering reads them without a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snap::replicator::server {

struct Metrics {
  std::atomic<uint64_t> received_bytes{0};       // frame + snapshot bytes accepted
  std::atomic<uint64_t> received_chunks{0};      // frames accepted (not skipped)
  std::atomic<uint64_t> snapshots_committed{0};  // snapshots recorded (created)
  std::atomic<uint64_t> sent_bytes{0};           // reply messages, headers included
  std::atomic<uint64_t> sessions{0};             // sessions started
  std::atomic<int64_t> sessions_active{0};
  std::atomic<uint64_t> refused_sessions{0};  // refused at HELLO
  std::atomic<uint64_t> errors{0};            // ERROR messages sent, refusals included
};

// One repository's gauges.
struct RepoGauge {
  std::string id_hex;
  uint64_t snapshots = 0;
  std::optional<int64_t> newest_received_ns;  // no age sample when empty
};

// The exposition text: # HELP and # TYPE per family, then its samples:
//   replicad_received_bytes_total, replicad_received_chunks_total,
//   replicad_snapshots_committed_total, replicad_sent_bytes_total,
//   replicad_sessions_total, replicad_sessions_active,
//   replicad_refused_sessions_total, replicad_errors_total,
//   replicad_repository_snapshots{repository="<id>"},
//   replicad_repository_newest_snapshot_age_seconds{repository="<id>"}
//     (now_ns minus the newest snapshot's receive time: the recovery point).
std::string RenderMetrics(const Metrics& m, const std::vector<RepoGauge>& repos, int64_t now_ns);

}  // namespace snap::replicator::server
