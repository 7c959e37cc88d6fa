#include "tools/snapctl/replication.h"

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>
#include <unordered_set>

#include "replicator/client/pusher.h"
#include "replicator/client/session.h"

namespace snap::cli {
namespace {

namespace rc = replicator::client;
namespace protocol = replicator::protocol;
namespace net = replicator::net;
using engine::ChunkId;
using engine::Status;
using IdSet = std::unordered_set<ChunkId, engine::ChunkIdHash>;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct PeerRun {
  uint64_t snapshots = 0;
  rc::PushStats push;
  uint64_t bytes_sent = 0, bytes_received = 0;
  std::optional<ChunkId> failing;  // the snapshot in flight when it failed
};

engine::Result<IdSet> RemoteSnapshots(net::Channel& ch) {
  SNAP_RETURN_IF_ERROR(ch.Send(protocol::MessageType::kListSnapshots, {}));
  SNAP_ASSIGN_OR_RETURN(protocol::Message m, rc::Expect(ch, protocol::MessageType::kSnapshotList));
  SNAP_ASSIGN_OR_RETURN(protocol::SnapshotList list, protocol::SnapshotList::Decode(m.body));
  IdSet out;
  for (const auto& e : list.entries) out.insert(e.id);
  return out;
}

// One session: reconcile the queue with what the replica lists, then push
// what is queued, oldest first.
Status PushQueued(engine::Repository& repo, rc::ReplicationQueue& queue, const rc::Peer& peer,
                  net::Channel& ch, bool repo_exists, PeerRun* run, rc::PeerState* state) {
  rc::Pusher pusher(repo, &ch);
  IdSet remote;
  if (repo_exists) {
    SNAP_ASSIGN_OR_RETURN(remote, RemoteSnapshots(ch));
  } else {
    SNAP_RETURN_IF_ERROR(pusher.SendConfig());
  }
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::Repository::SnapshotInfo> local, repo.ListSnapshots());
  for (const auto& s : local)
    if (!remote.contains(s.id)) SNAP_RETURN_IF_ERROR(queue.Enqueue(peer.name, s.id, NowNs()));
  SNAP_ASSIGN_OR_RETURN(std::vector<rc::QueueEntry> pending, queue.Pending(peer.name));
  IdSet queued, local_ids;
  for (const auto& e : pending) queued.insert(e.snapshot);
  for (const auto& s : local) {  // oldest first
    local_ids.insert(s.id);
    if (!queued.contains(s.id)) continue;
    if (!remote.contains(s.id)) {
      run->failing = s.id;
      Status pushed = pusher.PushSnapshot(s.id);
      run->push = pusher.stats();
      SNAP_RETURN_IF_ERROR(pushed.WithContext("snapshot " + s.id.ShortHex()));
      run->snapshots++;
    }
    state->last_snapshot = s.id;
    SNAP_RETURN_IF_ERROR(queue.Done(peer.name, s.id));
  }
  run->failing.reset();
  for (const auto& e : pending)  // snapshots no longer held here
    if (!local_ids.contains(e.snapshot)) SNAP_RETURN_IF_ERROR(queue.Done(peer.name, e.snapshot));
  return Status::OK();
}

Status PushOnce(engine::Repository& repo, rc::ReplicationQueue& queue, const rc::Peer& peer,
                const net::TlsIdentity& identity, PeerRun* run, rc::PeerState* state) {
  SNAP_ASSIGN_OR_RETURN(rc::Session s,
                        rc::OpenSession(peer.url, peer.fingerprint, identity, protocol::Role::kPush,
                                        repo.config().repo_id));
  Status st = PushQueued(repo, queue, peer, *s.channel, s.welcome.repo_exists, run, state);
  if (st.ok()) rc::CloseSession(&s);
  run->bytes_sent = s.channel->bytes_sent();
  run->bytes_received = s.channel->bytes_received();
  return st;
}

void Print(const Globals& g, const rc::Peer& peer, const PeerRun& run, double secs) {
  if (g.quiet || g.json) return;
  std::cout << "peer " << peer.name << " (" << peer.url.ToString() << "): ";
  if (run.snapshots == 0)
    std::cout << "up to date";
  else
    std::cout << run.snapshots << " snapshot(s) sent, " << run.push.frames_sent << " chunks ("
              << HumanBytes(run.push.frame_bytes) << ")";
  std::cout << ", " << HumanBytes(run.bytes_sent) << " on the wire, " << std::fixed
            << std::setprecision(1) << secs << " s\n";
}

nlohmann::json Json(const rc::Peer& peer, const PeerRun& run, double secs, const Status& s) {
  return {{"peer", peer.name},
          {"url", peer.url.ToString()},
          {"ok", s.ok()},
          {"error", s.ok() ? "" : s.message()},
          {"snapshots_sent", run.snapshots},
          {"frames_sent", run.push.frames_sent},
          {"frame_bytes", run.push.frame_bytes},
          {"have_batches", run.push.have_batches},
          {"have_round_trips", run.push.have_round_trips},
          {"ids_asked", run.push.ids_asked},
          {"bytes_sent", run.bytes_sent},
          {"bytes_received", run.bytes_received},
          {"seconds", secs}};
}

// Pushes to one peer with retries; records the outcome in the peer state.
Status ReplicatePeer(const Globals& g, engine::Repository& repo, const rc::Peer& peer,
                     const net::TlsIdentity& identity, const ReplicateOptions& opts,
                     nlohmann::json* report) {
  rc::ReplicationQueue queue(&repo.kv());
  SNAP_ASSIGN_OR_RETURN(rc::PeerState state, queue.State(peer.name));
  auto start = std::chrono::steady_clock::now();
  Status s;
  PeerRun run;
  for (int attempt = 1; attempt <= opts.attempts; attempt++) {
    run = PeerRun();
    s = PushOnce(repo, queue, peer, identity, &run, &state);
    state.bytes_sent += run.bytes_sent;
    if (s.ok()) break;
    s = s.WithContext("peer " + peer.name);
    if (run.failing) SNAP_RETURN_IF_ERROR(queue.Failed(peer.name, *run.failing, s.message()));
    if (attempt == opts.attempts) break;
    int wait = opts.backoff_seconds << (attempt - 1);
    if (!g.quiet)
      std::cerr << "snapctl: " << s.message() << "; attempt " << attempt << " of "
                << opts.attempts << ", retrying in " << wait << " s\n";
    std::this_thread::sleep_for(std::chrono::seconds(wait));
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (s.ok()) {
    state.last_success_ns = NowNs();
    state.last_error.clear();
    Print(g, peer, run, secs);
  } else {
    state.last_failure_ns = NowNs();
    state.last_error = s.message();
  }
  report->push_back(Json(peer, run, secs, s));
  SNAP_RETURN_IF_ERROR(queue.PutState(peer.name, state));
  return s;
}

}  // namespace

engine::Result<std::vector<rc::Peer>> AllPeers(const Globals& g, const engine::Repository& repo) {
  SNAP_ASSIGN_OR_RETURN(std::vector<rc::Peer> peers, rc::LoadPeers(repo.store()));
  SNAP_ASSIGN_OR_RETURN(std::optional<ConfigFile> config, LoadConfig(g));
  if (!config) return peers;
  for (const PeerConfig& pc : config->peers) {
    rc::Peer p;
    p.name = pc.name;
    p.fingerprint = pc.fingerprint;
    SNAP_ASSIGN_OR_RETURN(p.url, rc::ParseReplicaUrl(pc.url));
    if (!rc::IsValidPeerName(p.name))
      return Status::InvalidArgument(config->path + ": peer." + p.name +
                                     ": use 1-64 of a-z, 0-9, '_' and '-' in peer names");
    if (const rc::Peer* have = rc::FindPeer(peers, p.name)) {
      if (have->url.ToString() != p.url.ToString() || have->fingerprint != p.fingerprint)
        return Status::InvalidArgument("peer " + p.name + " is defined differently in " +
                                       config->path + " and by `snapctl peer add`; remove one");
      continue;
    }
    peers.push_back(std::move(p));
  }
  std::sort(peers.begin(), peers.end(),
            [](const rc::Peer& a, const rc::Peer& b) { return a.name < b.name; });
  return peers;
}

engine::Result<ReplicationConfig> ReplicationSettings(const Globals& g) {
  SNAP_ASSIGN_OR_RETURN(std::optional<ConfigFile> config, LoadConfig(g));
  return config ? config->replication : ReplicationConfig();
}

engine::Status EnqueueForPeers(const Globals& g, engine::Repository& repo, const ChunkId& snapshot) {
  SNAP_ASSIGN_OR_RETURN(std::vector<rc::Peer> peers, AllPeers(g, repo));
  rc::ReplicationQueue queue(&repo.kv());
  for (const rc::Peer& p : peers) SNAP_RETURN_IF_ERROR(queue.Enqueue(p.name, snapshot, NowNs()));
  return Status::OK();
}

int Replicate(const Globals& g, engine::Repository& repo, const ReplicateOptions& opts) {
  nlohmann::json report;
  int code = Replicate(g, repo, opts, &report);
  if (g.json) PrintJson(report);
  return code;
}

int Replicate(const Globals& g, engine::Repository& repo, const ReplicateOptions& opts,
              nlohmann::json* report) {
  auto stopped = [&](const Status& s) {
    *report = ErrorJson(s);
    std::cerr << "snapctl: " << s.message() << "\n";
    return kExitFailure;
  };
  auto peers = AllPeers(g, repo);
  if (!peers.ok()) return stopped(peers.status());
  std::vector<rc::Peer> chosen;
  for (const rc::Peer& p : *peers)
    if (!opts.peer || p.name == *opts.peer) chosen.push_back(p);
  if (chosen.empty())
    return stopped(Status::NotFound(opts.peer ? "no peer named " + *opts.peer
                                              : std::string("no peers: add one with `snapctl peer "
                                                            "add NAME replica://HOST:PORT "
                                                            "--fingerprint FP`")));
  auto identity = rc::LoadOrCreateIdentity();
  if (!identity.ok()) return stopped(identity.status());
  *report = nlohmann::json::array();
  int failed = 0;
  for (const rc::Peer& p : chosen) {
    size_t entries = report->size();
    Status s = ReplicatePeer(g, repo, p, *identity, opts, report);
    if (!s.ok()) {
      failed++;
      // Failed before its outcome was recorded (the index): say so all the same.
      if (report->size() == entries) report->push_back(Json(p, PeerRun(), 0, s));
      if (!g.json)
        std::cerr << "snapctl: " << s.message() << " (gave up after " << opts.attempts
                  << " attempt(s); see `snapctl status`)\n";
    }
  }
  return failed ? kExitFailure : 0;
}

}  // namespace snap::cli
