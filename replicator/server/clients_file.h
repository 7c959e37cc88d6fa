// The replica's admission list, DIR/clients (FORMAT.md "Replica directory"):
// text, one admitted client per line,
//
//   push <fingerprint>                      may create repositories, push to
//                                           and read the ones it owns
//   read <fingerprint> <repository ID hex>  may read that one repository
//
// Fingerprints are "sha256:" + 64 lower-case hex digits (net/tls_identity.h);
// repository IDs 32 hex digits. '#' starts a comment line; blank lines are
// ignored. `replicad allow` rewrites the file atomically; a running replica
// re-reads it when it changed (ClientsFile), so no restart is needed.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "replicator/protocol/messages.h"

namespace snap::replicator::server {

using engine::Result;
using engine::Status;
using protocol::RepoId;

// Parses a repository ID (32 hex digits, either case). InvalidArgument
// naming the text otherwise.
Result<RepoId> ParseRepoId(std::string_view hex);
std::string RepoIdHex(const RepoId& id);  // 32 lower-case hex digits
// "sha256:ab12cd34ef56…": enough of a key for log lines and messages.
std::string ShortKey(std::string_view key);

struct ClientGrant {
  enum class Kind { kPush, kRead };
  Kind kind = Kind::kPush;
  std::string key;  // the client's fingerprint
  RepoId repo{};    // kRead only
  bool operator==(const ClientGrant&) const = default;

  // The grant's line, without the newline.
  std::string ToLine() const;
  // A grant from `replicad allow` arguments: a push grant when `repo_hex`
  // is empty, else a read grant. InvalidArgument when the key does not
  // look like a fingerprint or the repository ID is malformed.
  static Result<ClientGrant> Make(std::string key, std::optional<std::string> repo_hex);
};

// A parsed admission list. Immutable value; thread-compatible.
class ClientList {
 public:
  // Corruption "clients line N: ..." on the first malformed line.
  static Result<ClientList> Parse(std::string_view text);

  // Listed as a push client.
  bool MayPush(std::string_view key) const;
  // Listed as a read client of `repo` (owners are the caller's business).
  bool MayRead(std::string_view key, const RepoId& repo) const;
  bool Contains(const ClientGrant& grant) const;
  const std::vector<ClientGrant>& grants() const { return grants_; }

 private:
  std::vector<ClientGrant> grants_;
};

// Adds `grant` to the admission list at `path` (created when absent) unless
// it is already there. The file's text stays as it is (comments included)
// with one line appended, and replaces the old file atomically: temp file,
// fsync, rename, fsync of the directory. Returns true when added, false
// when already present; Corruption when the existing file does not parse
// (nothing is written then).
Result<bool> AddGrant(const std::string& path, const ClientGrant& grant);

// The text of a new, empty admission list (a comment explaining the format).
std::string EmptyClientsText();

// ClientsFile: the admission list as of its last change on disk. Current()
// stats the file and parses it again only when its inode, size or mtime
// changed, so each new session sees `replicad allow` at the cost of one
// stat. Thread-safe.
class ClientsFile {
 public:
  explicit ClientsFile(std::string path) : path_(std::move(path)) {}

  // The list. A missing file is an empty list (nobody is admitted). A file
  // that cannot be read or parsed fails closed: the error, never an older
  // list, so a revoked client is not let in by a botched edit.
  Result<std::shared_ptr<const ClientList>> Current();
  const std::string& path() const { return path_; }

 private:
  struct Stamp {
    ino_t ino = 0;
    off_t size = -1;
    timespec mtime{};
  };

  std::string path_;
  std::mutex mu_;
  std::optional<Stamp> stamp_;              // guarded by mu_
  std::shared_ptr<const ClientList> list_;  // guarded by mu_
};

}  // namespace snap::replicator::server
