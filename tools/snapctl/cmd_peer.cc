// snapctl peer add NAME replica://HOST:PORT --fingerprint FP
// snapctl peer remove NAME
// snapctl peer list
#include <iostream>

#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

namespace rc = replicator::client;

struct PeerArgs {
  std::string name, url, fingerprint;
};

int RunAdd(const Globals& g, const PeerArgs& a) {
  auto url = rc::ParseReplicaUrl(a.url);
  if (!url.ok()) return Fail(g, url.status());
  if (!url->repo_id.empty())
    return Fail(g, engine::Status::InvalidArgument(
                       "a peer is replica://HOST:PORT; the repository ID is this repository's"));
  auto repo = OpenRepo(g);
  if (!repo.ok()) return Fail(g, repo.status());
  engine::Status s = rc::AddPeer((*repo)->store(), {a.name, *url, a.fingerprint});
  if (!s.ok()) return Fail(g, s);
  // Every snapshot already taken is due at the new peer.
  auto snaps = (*repo)->ListSnapshots();
  if (!snaps.ok()) return Fail(g, snaps.status());
  rc::ReplicationQueue queue(&(*repo)->kv());
  for (const auto& snap : *snaps) {
    s = queue.Enqueue(a.name, snap.id, snap.record.time_ns);
    if (!s.ok()) return Fail(g, s);
  }
  if (!g.quiet)
    std::cout << "added peer " << a.name << " (" << url->ToString() << "); "
              << snaps->size() << " snapshot(s) queued: run `snapctl replicate`\n";
  return 0;
}

int RunRemove(const Globals& g, const PeerArgs& a) {
  auto repo = OpenRepo(g);
  if (!repo.ok()) return Fail(g, repo.status());
  engine::Status s = rc::RemovePeer((*repo)->store(), a.name);
  if (!s.ok()) return Fail(g, s);
  if (!g.quiet) std::cout << "removed peer " << a.name << "\n";
  return 0;
}

int RunList(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto peers = AllPeers(g, **repo);
  if (!peers.ok()) return Fail(g, peers.status());
  nlohmann::json out = nlohmann::json::array();
  for (const rc::Peer& p : *peers) {
    if (g.json)
      out.push_back({{"name", p.name}, {"url", p.url.ToString()}, {"fingerprint", p.fingerprint}});
    else
      std::cout << p.name << "  " << p.url.ToString() << "  " << p.fingerprint << "\n";
  }
  if (g.json) PrintJson(out);
  return 0;
}

}  // namespace

void RegisterPeer(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("peer", "the replicas this repository replicates to");
  cmd->require_subcommand(1);
  auto a = std::make_shared<PeerArgs>();
  auto* add = cmd->add_subcommand("add", "add a replica (see `replicad fingerprint` there)");
  add->add_option("name", a->name, "peer name: 1-64 of a-z, 0-9, _ and -")->required();
  add->add_option("url", a->url, "replica://HOST:PORT")->required();
  add->add_option("--fingerprint", a->fingerprint, "the replica's fingerprint, sha256:...")
      ->required();
  add->callback([&g, a] { g.run = [&g, a] { return RunAdd(g, *a); }; });
  auto* rm = cmd->add_subcommand("remove", "forget a peer (the replica keeps its copy)");
  rm->add_option("name", a->name, "peer name")->required();
  rm->callback([&g, a] { g.run = [&g, a] { return RunRemove(g, *a); }; });
  auto* ls = cmd->add_subcommand("list", "list peers");
  ls->callback([&g] { g.run = [&g] { return RunList(g); }; });
}

}  // namespace snap::cli
