#include "replicator/server/clients_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "replicator/net/tls_identity.h"
#include "replicator/server/durable_file.h"

namespace snap::replicator::server {
namespace {

constexpr std::string_view kPush = "push";
constexpr std::string_view kRead = "read";

std::vector<std::string> Words(std::string_view line) {
  std::istringstream in{std::string(line)};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

Result<ClientGrant> ParseLine(const std::vector<std::string>& w) {
  if (w[0] == kPush && w.size() == 2) return ClientGrant::Make(w[1], std::nullopt);
  if (w[0] == kRead && w.size() == 3) return ClientGrant::Make(w[1], w[2]);
  return Status::InvalidArgument("expected \"push <key>\" or \"read <key> <repository id>\"");
}

bool SameStamp(const struct stat& st, ino_t ino, off_t size, const timespec& mtime) {
  return st.st_ino == ino && st.st_size == size && st.st_mtim.tv_sec == mtime.tv_sec &&
         st.st_mtim.tv_nsec == mtime.tv_nsec;
}

}  // namespace

Result<RepoId> ParseRepoId(std::string_view hex) {
  engine::Buffer b;
  RepoId id{};
  if (hex.size() != id.size() * 2 || !engine::FromHex(hex, &b))
    return Status::InvalidArgument("repository ID '" + std::string(hex) +
                                   "': expected 32 hex digits");
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

std::string RepoIdHex(const RepoId& id) { return engine::ToHex(id); }

std::string ShortKey(std::string_view key) {
  constexpr size_t kShown = 7 + 12;  // "sha256:" and 12 digits
  if (key.size() <= kShown) return std::string(key);
  return std::string(key.substr(0, kShown)) + "\u2026";
}

std::string ClientGrant::ToLine() const {
  if (kind == Kind::kPush) return std::string(kPush) + " " + key;
  return std::string(kRead) + " " + key + " " + RepoIdHex(repo);
}

Result<ClientGrant> ClientGrant::Make(std::string key, std::optional<std::string> repo_hex) {
  if (!net::LooksLikeFingerprint(key))
    return Status::InvalidArgument("client key '" + key +
                                   "': expected sha256: and 64 lower-case hex digits "
                                   "(as `snapctl identity` prints)");
  ClientGrant g;
  g.key = std::move(key);
  if (repo_hex) {
    SNAP_ASSIGN_OR_RETURN(g.repo, ParseRepoId(*repo_hex));
    g.kind = Kind::kRead;
  }
  return g;
}

Result<ClientList> ClientList::Parse(std::string_view text) {
  ClientList list;
  std::istringstream in{std::string(text)};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    std::vector<std::string> w = Words(line);
    if (w.empty() || w[0].starts_with('#')) continue;
    Result<ClientGrant> g = ParseLine(w);
    if (!g.ok())
      return Status::Corruption("clients line " + std::to_string(line_no) + ": " +
                                g.status().message());
    list.grants_.push_back(std::move(*g));
  }
  return list;
}

bool ClientList::MayPush(std::string_view key) const {
  return std::any_of(grants_.begin(), grants_.end(), [&](const ClientGrant& g) {
    return g.kind == ClientGrant::Kind::kPush && g.key == key;
  });
}

bool ClientList::MayRead(std::string_view key, const RepoId& repo) const {
  return std::any_of(grants_.begin(), grants_.end(), [&](const ClientGrant& g) {
    return g.kind == ClientGrant::Kind::kRead && g.key == key && g.repo == repo;
  });
}

bool ClientList::Contains(const ClientGrant& grant) const {
  return std::find(grants_.begin(), grants_.end(), grant) != grants_.end();
}

std::string EmptyClientsText() {
  return "# Clients admitted by this replica, one per line (maintained by `replicad allow`):\n"
         "#   push <client key>                  creates repositories, pushes to and reads "
         "its own\n"
         "#   read <client key> <repository id>  reads one repository\n";
}

Result<bool> AddGrant(const std::string& path, const ClientGrant& grant) {
  Result<std::string> text = ReadTextFile(path);
  if (!text.ok() && !text.status().IsNotFound()) return text.status();
  std::string body = text.ok() ? std::move(*text) : EmptyClientsText();
  Result<ClientList> list = ClientList::Parse(body);
  if (!list.ok()) return list.status().WithContext(path);
  if (list->Contains(grant)) return false;
  if (!body.empty() && body.back() != '\n') body += '\n';
  body += grant.ToLine() + "\n";
  SNAP_RETURN_IF_ERROR(WriteFileAtomic(path, body, 0644));
  return true;
}

Result<std::shared_ptr<const ClientList>> ClientsFile::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (errno != ENOENT) return Status::FromErrno(path_ + ": stat", errno);
    stamp_.reset();
    list_ = std::make_shared<const ClientList>();
    return list_;
  }
  if (list_ && stamp_ && SameStamp(st, stamp_->ino, stamp_->size, stamp_->mtime)) return list_;
  list_.reset();
  stamp_.reset();
  SNAP_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path_));
  Result<ClientList> parsed = ClientList::Parse(text);
  if (!parsed.ok()) return parsed.status().WithContext(path_);
  list_ = std::make_shared<const ClientList>(std::move(*parsed));
  stamp_ = Stamp{st.st_ino, st.st_size, st.st_mtim};
  return list_;
}

}  // namespace snap::replicator::server
