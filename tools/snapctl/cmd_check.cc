// snapctl check [--read-data | --read-data-subset P%] [--rebuild-index]
//               [--repair [--from PEER]]
#include <charconv>
#include <iostream>

#include "engine/check.h"
#include "replicator/client/fetcher.h"
#include "replicator/client/session.h"
#include "tools/snapctl/cli.h"
#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

namespace rc = replicator::client;

// Where the next --read-data-subset run starts (index keyspace 'm').
constexpr std::string_view kCursorKey = "mcheck-cursor";

struct CheckArgs {
  bool read_data = false, rebuild = false, repair = false;
  std::string subset, from;
};

int Rebuild(const Globals& g, engine::Repository& repo) {
  auto r = engine::RebuildIndex(repo);
  if (!r.ok()) return Fail(g, r.status());
  for (const auto& e : r->errors) std::cerr << "error: " << e << "\n";
  if (!g.quiet && !g.json)
    std::cout << "index rebuilt: " << r->packs << " packs, " << r->chunks << " chunks, "
              << r->snapshots << " snapshots\n";
  return r->errors.empty() ? 0 : kExitCheckFailed;
}

// "10%" or "10" -> 0.10.
engine::Result<double> ParseShare(const std::string& text) {
  std::string_view t = text;
  if (t.ends_with('%')) t.remove_suffix(1);
  double p = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), p);
  if (ec != std::errc() || end != t.data() + t.size() || p <= 0 || p > 100)
    return engine::Status::InvalidArgument("--read-data-subset " + text +
                                           ": expected a percentage above 0 and at most 100, "
                                           "e.g. 10%");
  return p / 100;
}

uint64_t LoadCursor(const engine::Repository& repo) {
  auto v = repo.kv().Get(kCursorKey);
  if (!v.ok() || !*v) return 0;
  uint64_t c = 0;
  std::from_chars((*v)->data(), (*v)->data() + (*v)->size(), c);
  return c;
}

void SaveCursor(engine::Repository& repo, uint64_t cursor) {
  engine::index::WriteBatch b;
  b.Put(kCursorKey, std::to_string(cursor));
  (void)repo.kv().Write(b);  // best effort: a read-only open starts at 0 next time
}

// Fetches good copies of the damaged chunks from the peer.
engine::Result<size_t> RepairFrom(const Globals& g, engine::Repository& repo,
                                  const std::string& name, const std::vector<engine::ChunkId>& ids) {
  SNAP_ASSIGN_OR_RETURN(std::vector<rc::Peer> peers, AllPeers(g, repo));
  const rc::Peer* peer = rc::FindPeer(peers, name);
  if (!peer) return engine::Status::NotFound("--from " + name + ": no such peer (see `snapctl peer list`)");
  SNAP_ASSIGN_OR_RETURN(replicator::net::TlsIdentity identity, rc::LoadOrCreateIdentity());
  SNAP_ASSIGN_OR_RETURN(rc::Session s,
                        rc::OpenSession(peer->url, peer->fingerprint, identity,
                                        replicator::protocol::Role::kRead, repo.config().repo_id));
  rc::RemoteFetcher fetcher(&repo, s.channel.get());
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::ChunkId> repaired, fetcher.Replace(ids));
  rc::CloseSession(&s);
  return repaired.size();
}

void Print(const Globals& g, const engine::CheckReport& r, const CheckArgs& a) {
  if (g.json) {
    PrintJson({{"ok", r.ok()}, {"snapshots", r.snapshots}, {"trees", r.trees},
               {"chunks", r.chunks_referenced}, {"packs", r.packs}, {"packs_read", r.packs_read},
               {"damaged_chunks", r.damaged.size()}, {"errors", r.errors}});
    return;
  }
  for (const auto& e : r.errors) std::cerr << "error: " << e << "\n";
  if (g.quiet) return;
  std::string read;
  if (a.read_data && a.subset.empty()) read = " (all data read: " + HumanBytes(r.bytes_read) + ")";
  if (!a.subset.empty())
    read = " (" + std::to_string(r.packs_read) + " packs read: " + HumanBytes(r.bytes_read) + ")";
  std::cout << "checked " << r.snapshots << " snapshots, " << r.trees << " trees, "
            << r.chunks_referenced << " chunks, " << r.packs << " packs" << read << ": "
            << (r.ok() ? "no errors" : std::to_string(r.errors.size()) + " errors") << "\n";
}

int Run(const Globals& g, const CheckArgs& a) {
  using Mode = engine::Repository::Mode;
  if (g.repo.empty()) return Fail(g, OpenRepo(g).status());
  auto creds = CredentialsOf(g);
  if (!creds.ok()) return Fail(g, creds.status());
  auto repo = a.rebuild ? engine::Repository::Open(g.repo, *creds, Mode::kRebuildIndex)
                        : OpenRepo(g, /*read_only=*/!a.repair);
  if (!repo.ok()) return Fail(g, repo.status());
  if (a.rebuild && (*repo)->index_rebuilt()) {
    // Open found the index missing or damaged (moved to index.damaged) and
    // rebuilt it already.
    if (!g.quiet && !g.json) std::cout << "index rebuilt from the packs\n";
  } else if (a.rebuild) {
    int rc = Rebuild(g, **repo);
    if (rc != 0) return rc;
  }
  engine::CheckOptions opts;
  opts.read_data = a.read_data || !a.subset.empty();
  if (!a.subset.empty()) {
    auto share = ParseShare(a.subset);
    if (!share.ok()) return Fail(g, share.status());
    opts.read_share = *share;
    opts.cursor = LoadCursor(**repo);
  }
  auto r = engine::CheckRepository(**repo, opts);
  if (!r.ok()) return Fail(g, r.status());
  if (!a.subset.empty()) SaveCursor(**repo, r->next_cursor);
  if (r->ok() || !a.repair) {
    Print(g, *r, a);
    return r->ok() ? 0 : kExitCheckFailed;
  }
  for (const auto& e : r->errors) std::cerr << "found: " << e << "\n";
  if (a.from.empty()) {
    Print(g, *r, a);
    std::cerr << "snapctl: " << r->damaged.size()
              << " chunk(s) damaged or missing and no --from PEER to heal them from: the files "
                 "named above are lost; a restore restores every other file and names these\n";
    return kExitCheckFailed;
  }
  auto repaired = RepairFrom(g, **repo, a.from, r->damaged);
  if (!repaired.ok()) return Fail(g, repaired.status().WithContext("repair"));
  if (!g.quiet && !g.json)
    std::cout << "repaired " << *repaired << " of " << r->damaged.size()
              << " damaged chunk(s) from " << a.from << "; checking again\n";
  r = engine::CheckRepository(**repo, opts);
  if (!r.ok()) return Fail(g, r.status());
  Print(g, *r, a);
  return r->ok() ? 0 : kExitCheckFailed;
}

}  // namespace

void RegisterCheck(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("check", "verify the repository");
  auto a = std::make_shared<CheckArgs>();
  cmd->add_flag("--read-data", a->read_data, "read and authenticate every stored payload");
  cmd->add_option("--read-data-subset", a->subset,
                  "read P% of the packs, a different slice each run (e.g. 10%: all in 10 runs)");
  cmd->add_flag("--rebuild-index", a->rebuild, "recreate the index from packs and snapshots first");
  cmd->add_flag("--repair", a->repair,
                "heal damaged chunks from --from PEER; without it, name what is lost");
  cmd->add_option("--from", a->from, "with --repair: the peer holding good copies");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli
