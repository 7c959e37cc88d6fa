#include "tools/snapctl/remote_restore.h"

#include <cstdlib>
#include <iostream>

#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

namespace rc = replicator::client;
namespace protocol = replicator::protocol;
namespace net = replicator::net;
using engine::Status;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

engine::Result<protocol::RepoId> ParseRepoId(const std::string& hex) {
  engine::Buffer b;
  protocol::RepoId id{};
  if (!engine::FromHex(hex, &b) || b.size() != id.size())
    return Status::InvalidArgument("repository ID '" + hex + "': expected 32 hex digits");
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

// --from replica://HOST:PORT/REPO-ID: the cache repository, created from
// the replica's config on first use.
engine::Result<std::unique_ptr<RemoteSource>> FromUrl(const Globals& g, const std::string& from,
                                                      const std::string& fingerprint,
                                                      const std::string& cache_dir) {
  SNAP_ASSIGN_OR_RETURN(rc::ReplicaUrl url, rc::ParseReplicaUrl(from));
  if (url.repo_id.empty())
    return Status::InvalidArgument("--from " + from +
                                   ": name the repository, replica://HOST:PORT/REPO-ID (its ID is "
                                   "in `snapctl info` on the production host)");
  if (fingerprint.empty())
    return Status::InvalidArgument("--from " + from +
                                   " needs --fingerprint FP (what `replicad fingerprint` prints)");
  if (g.key_file.empty())
    return Status::InvalidArgument("--from " + from +
                                   " needs --key-file F: the key `snapctl key export` printed on "
                                   "the production host");
  SNAP_ASSIGN_OR_RETURN(protocol::RepoId repo_id, ParseRepoId(url.repo_id));
  SNAP_ASSIGN_OR_RETURN(net::TlsIdentity identity, rc::LoadOrCreateIdentity());
  auto src = std::make_unique<RemoteSource>();
  SNAP_ASSIGN_OR_RETURN(src->session, rc::OpenSession(url, fingerprint, identity,
                                                      protocol::Role::kRead, repo_id));
  net::Channel& ch = *src->session.channel;
  SNAP_RETURN_IF_ERROR(ch.Send(protocol::MessageType::kGetConfig, {}));
  SNAP_ASSIGN_OR_RETURN(protocol::Message config, rc::Expect(ch, protocol::MessageType::kConfig));
  std::string dir = (cache_dir.empty() ? DefaultCacheDir() : cache_dir) + "/replicas/" + url.repo_id;
  SNAP_RETURN_IF_ERROR(engine::Repository::CreateKeyless(dir, config.body));
  SNAP_ASSIGN_OR_RETURN(engine::Credentials creds, CredentialsOf(g));
  SNAP_ASSIGN_OR_RETURN(src->repo, engine::Repository::Open(dir, creds));
  if (src->repo->config().repo_id != repo_id)
    return Status::Corruption("replica " + ch.peer() + ": sent the config of another repository");
  return src;
}

// --from NAME: a peer of the local repository.
engine::Result<std::unique_ptr<RemoteSource>> FromPeer(const Globals& g, const std::string& name) {
  auto src = std::make_unique<RemoteSource>();
  SNAP_ASSIGN_OR_RETURN(src->repo, OpenRepo(g));
  SNAP_ASSIGN_OR_RETURN(std::vector<rc::Peer> peers, AllPeers(g, *src->repo));
  const rc::Peer* peer = rc::FindPeer(peers, name);
  if (!peer)
    return Status::NotFound("--from " + name +
                            ": no such peer (see `snapctl peer list`; or give "
                            "replica://HOST:PORT/REPO-ID)");
  SNAP_ASSIGN_OR_RETURN(net::TlsIdentity identity, rc::LoadOrCreateIdentity());
  SNAP_ASSIGN_OR_RETURN(src->session,
                        rc::OpenSession(peer->url, peer->fingerprint, identity,
                                        protocol::Role::kRead, src->repo->config().repo_id));
  return src;
}

}  // namespace

RemoteSource::~RemoteSource() {
  if (repo) repo->set_fetcher(nullptr);
  fetcher.reset();
  rc::CloseSession(&session);
}

std::string DefaultCacheDir() {
  std::string home = EnvOr("HOME", "/root");
  return EnvOr("SNAPCTL_CACHE_DIR", EnvOr("XDG_CACHE_HOME", home + "/.cache") + "/snapctl");
}

engine::Result<std::unique_ptr<RemoteSource>> OpenRemoteSource(const Globals& g,
                                                               const std::string& from,
                                                               const std::string& fingerprint,
                                                               const std::string& cache_dir) {
  std::unique_ptr<RemoteSource> src;
  if (from.starts_with("replica://")) {
    SNAP_ASSIGN_OR_RETURN(src, FromUrl(g, from, fingerprint, cache_dir));
  } else {
    SNAP_ASSIGN_OR_RETURN(src, FromPeer(g, from));
  }
  src->fetcher = std::make_unique<rc::RemoteFetcher>(src->repo.get(), src->session.channel.get());
  SNAP_RETURN_IF_ERROR(src->fetcher->SyncSnapshots());
  src->repo->set_fetcher(src->fetcher.get());
  return src;
}

}  // namespace snap::cli
