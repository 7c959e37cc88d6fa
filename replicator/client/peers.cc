#include "replicator/client/peers.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "replicator/net/tls_identity.h"

namespace snap::replicator::client {
namespace {

constexpr std::string_view kScheme = "replica://";
constexpr std::string_view kPeerPrefix = "peers/";

Status BadUrl(std::string_view url, std::string_view what) {
  return Status::InvalidArgument("replica address '" + std::string(url) + "': " +
                                 std::string(what) +
                                 " (expected replica://HOST:PORT, e.g. replica://backup1:7411)");
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

std::string Encode(const Peer& p) {
  return "url = " + p.url.ToString() + "\nfingerprint = " + p.fingerprint + "\n";
}

Result<Peer> Decode(const std::string& name, std::string_view text) {
  Peer p;
  p.name = name;
  std::istringstream in{std::string(text)};
  std::string line, url;
  while (std::getline(in, line)) {
    if (line.starts_with("url = ")) url = line.substr(6);
    if (line.starts_with("fingerprint = ")) p.fingerprint = line.substr(14);
  }
  Result<ReplicaUrl> u = ParseReplicaUrl(url);
  if (!u.ok()) return u.status().WithContext("peers/" + name);
  p.url = *u;
  if (!net::LooksLikeFingerprint(p.fingerprint))
    return Status::Corruption("peers/" + name + ": no valid fingerprint line");
  return p;
}

}  // namespace

std::string ReplicaUrl::ToString() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::string s = std::string(kScheme) + h + ":" + std::to_string(port);
  if (!repo_id.empty()) s += "/" + repo_id;
  return s;
}

Result<ReplicaUrl> ParseReplicaUrl(std::string_view url) {
  if (!url.starts_with(kScheme)) return BadUrl(url, "it does not start with replica://");
  std::string_view rest = url.substr(kScheme.size());
  ReplicaUrl out;
  size_t slash = rest.find('/');
  if (slash != std::string_view::npos) {
    out.repo_id = std::string(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
    if (out.repo_id.size() != 32 || !IsHex(out.repo_id))
      return BadUrl(url, "the repository ID after '/' must be 32 lower-case hex digits");
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return BadUrl(url, "no HOST:PORT");
  std::string_view host = rest.substr(0, colon), port = rest.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return BadUrl(url, "unbalanced [ ] around the host");
    host = host.substr(1, host.size() - 2);
  }
  unsigned p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
    return BadUrl(url, "the port must be a number from 1 to 65535");
  if (host.find_first_of("/ \t\n") != std::string_view::npos) return BadUrl(url, "bad host");
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(p);
  return out;
}

bool IsValidPeerName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
         });
}

Result<std::vector<Peer>> LoadPeers(const engine::store::ObjectStore& store) {
  std::vector<std::string> keys;
  SNAP_RETURN_IF_ERROR(store.List(kPeerPrefix, [&](std::string_view key, uint64_t) {
    keys.emplace_back(key);
    return Status::OK();
  }));
  std::vector<Peer> peers;
  for (const std::string& key : keys) {
    SNAP_ASSIGN_OR_RETURN(engine::Buffer text, store.Get(key));
    SNAP_ASSIGN_OR_RETURN(Peer p, Decode(key.substr(kPeerPrefix.size()), engine::AsChars(text)));
    peers.push_back(std::move(p));
  }
  std::sort(peers.begin(), peers.end(),
            [](const Peer& a, const Peer& b) { return a.name < b.name; });
  return peers;
}

Status AddPeer(engine::store::ObjectStore& store, const Peer& peer) {
  if (!IsValidPeerName(peer.name))
    return Status::InvalidArgument("peer name '" + peer.name +
                                   "': use 1-64 of a-z, 0-9, '_' and '-'");
  if (!net::LooksLikeFingerprint(peer.fingerprint))
    return Status::InvalidArgument("fingerprint '" + peer.fingerprint +
                                   "': expected sha256: and 64 hex digits, as `replicad "
                                   "fingerprint` prints");
  SNAP_ASSIGN_OR_RETURN(bool added,
                        store.PutIfAbsent(std::string(kPeerPrefix) + peer.name,
                                          engine::AsBytes(Encode(peer))));
  if (!added)
    return Status::InvalidArgument("peer " + peer.name +
                                   " exists; `snapctl peer remove " + peer.name + "` first");
  return Status::OK();
}

Status RemovePeer(engine::store::ObjectStore& store, const std::string& name) {
  std::string key = std::string(kPeerPrefix) + name;
  if (!IsValidPeerName(name) || !store.Head(key).ok())
    return Status::NotFound("no peer named " + name + " (see `snapctl peer list`)");
  return store.Delete(key);
}

const Peer* FindPeer(const std::vector<Peer>& peers, std::string_view name) {
  for (const Peer& p : peers)
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace snap::replicator::client
