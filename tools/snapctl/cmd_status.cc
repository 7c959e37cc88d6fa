// snapctl status: per peer, the last replicated snapshot, the lag, the
// queue and the last error.
#include <chrono>
#include <iostream>

#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

namespace rc = replicator::client;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Age(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  if (s < 172800) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

int Run(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto peers = AllPeers(g, **repo);
  if (!peers.ok()) return Fail(g, peers.status());
  auto snaps = (*repo)->ListSnapshots();
  if (!snaps.ok()) return Fail(g, snaps.status());
  std::map<engine::ChunkId, int64_t> time_of;
  for (const auto& s : *snaps) time_of[s.id] = s.record.time_ns;
  rc::ReplicationQueue queue(&(*repo)->kv());
  nlohmann::json out = nlohmann::json::array();
  int64_t now = NowNs();
  for (const rc::Peer& p : *peers) {
    auto st = queue.State(p.name);
    auto pending = queue.Pending(p.name);
    if (!st.ok() || !pending.ok()) return Fail(g, st.ok() ? pending.status() : st.status());
    // Lag: how old the oldest snapshot the peer still lacks is.
    int64_t oldest = 0;
    uint32_t attempts = 0;
    std::string queue_error;
    for (const auto& e : *pending) {
      int64_t t = time_of.count(e.snapshot) ? time_of[e.snapshot] : e.queued_ns;
      if (oldest == 0 || t < oldest) oldest = t;
      attempts = std::max(attempts, e.attempts);
      if (!e.last_error.empty()) queue_error = e.last_error;
    }
    int64_t lag = oldest ? now - oldest : 0;
    std::string last = st->last_snapshot ? st->last_snapshot->ShortHex() : "";
    std::string error = st->last_error.empty() ? queue_error : st->last_error;
    if (g.json) {
      out.push_back({{"peer", p.name}, {"url", p.url.ToString()}, {"last_snapshot",
                     st->last_snapshot ? st->last_snapshot->ToHex() : ""},
                     {"last_success", st->last_success_ns ? FormatTime(st->last_success_ns) : ""},
                     {"queued", pending->size()}, {"lag_seconds", lag / 1'000'000'000},
                     {"failed_attempts", attempts}, {"bytes_sent", st->bytes_sent},
                     {"last_error", error}});
      continue;
    }
    std::cout << p.name << " (" << p.url.ToString() << ")\n"
              << "  last replicated  " << (last.empty() ? "nothing yet" : last);
    if (st->last_snapshot && time_of.count(*st->last_snapshot))
      std::cout << " (taken " << FormatTime(time_of[*st->last_snapshot]) << ")";
    std::cout << "\n  last success     "
              << (st->last_success_ns ? FormatTime(st->last_success_ns) : "never") << "\n"
              << "  queue            " << pending->size() << " snapshot(s)";
    if (!pending->empty()) std::cout << ", lag " << Age(lag);
    if (attempts) std::cout << ", " << attempts << " failed attempt(s)";
    std::cout << "\n";
    if (!error.empty()) std::cout << "  last error       " << error << "\n";
  }
  if (g.json) PrintJson(out);
  else if (peers->empty()) std::cout << "no peers (add one with `snapctl peer add`)\n";
  return 0;
}

}  // namespace

void RegisterStatus(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("status", "replication state per peer");
  cmd->callback([&g] { g.run = [&g] { return Run(g); }; });
}

}  // namespace snap::cli
