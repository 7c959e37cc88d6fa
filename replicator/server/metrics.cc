#include "replicator/server/metrics.h"

#include <cstdio>

namespace snap::replicator::server {
namespace {

void Family(std::string* out, const char* name, const char* type, const char* help) {
  *out += std::string("# HELP ") + name + " " + help + "\n";
  *out += std::string("# TYPE ") + name + " " + type + "\n";
}

void Sample(std::string* out, const char* name, uint64_t value) {
  *out += std::string(name) + " " + std::to_string(value) + "\n";
}

void Counter(std::string* out, const char* name, const char* help,
             const std::atomic<uint64_t>& value) {
  Family(out, name, "counter", help);
  Sample(out, name, value.load(std::memory_order_relaxed));
}

std::string Label(const RepoGauge& r) { return "{repository=\"" + r.id_hex + "\"}"; }

}  // namespace

std::string RenderMetrics(const Metrics& m, const std::vector<RepoGauge>& repos, int64_t now_ns) {
  std::string out;
  Counter(&out, "replicad_received_bytes_total", "Bytes of frames and snapshot objects accepted.",
          m.received_bytes);
  Counter(&out, "replicad_received_chunks_total", "Frames accepted (already held ones skipped).",
          m.received_chunks);
  Counter(&out, "replicad_snapshots_committed_total", "Snapshots recorded.", m.snapshots_committed);
  Counter(&out, "replicad_sent_bytes_total", "Bytes of messages sent to clients.", m.sent_bytes);
  Counter(&out, "replicad_sessions_total", "Sessions started.", m.sessions);
  Family(&out, "replicad_sessions_active", "gauge", "Sessions open now.");
  int64_t active = m.sessions_active.load(std::memory_order_relaxed);
  Sample(&out, "replicad_sessions_active", active < 0 ? 0 : static_cast<uint64_t>(active));
  Counter(&out, "replicad_refused_sessions_total", "Sessions refused at HELLO (admission).",
          m.refused_sessions);
  Counter(&out, "replicad_errors_total", "ERROR messages sent, refusals included.", m.errors);

  Family(&out, "replicad_repository_snapshots", "gauge", "Snapshots held per repository.");
  for (const RepoGauge& r : repos)
    out += "replicad_repository_snapshots" + Label(r) + " " + std::to_string(r.snapshots) + "\n";
  Family(&out, "replicad_repository_newest_snapshot_age_seconds", "gauge",
         "Seconds since the newest snapshot of the repository was received.");
  for (const RepoGauge& r : repos) {
    if (!r.newest_received_ns) continue;
    char age[32];
    std::snprintf(age, sizeof age, "%.3f",
                  static_cast<double>(now_ns - *r.newest_received_ns) / 1e9);
    out += "replicad_repository_newest_snapshot_age_seconds" + Label(r) + " " + age + "\n";
  }
  return out;
}

}  // namespace snap::replicator::server
