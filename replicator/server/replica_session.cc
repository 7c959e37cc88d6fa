#include "replicator/server/replica_session.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace snap::replicator::server {
namespace {

using protocol::MessageType;
using protocol::Role;

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "replicad";
  return buf;
}

bool IsPushMessage(MessageType t) {
  return t == MessageType::kPutConfig || t == MessageType::kHave || t == MessageType::kFrame ||
         t == MessageType::kCommitSnapshot;
}

bool IsReadMessage(MessageType t) {
  return t == MessageType::kGetConfig || t == MessageType::kListSnapshots ||
         t == MessageType::kGetSnapshot || t == MessageType::kGetChunks;
}

bool Equal(ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

// Client-chosen text goes into log lines: no control characters, so a
// name cannot forge a line of its own.
std::string Printable(std::string_view text) {
  std::string out(text.substr(0, 128));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

}  // namespace

ReplicaSession::ReplicaSession(ReplicaStore* store, net::PeerInfo peer)
    : store_(store), peer_(std::move(peer)) {
  store_->metrics().sessions++;
  store_->metrics().sessions_active++;
}

ReplicaSession::~ReplicaSession() {
  if (!closed_) OnClose(Status::Aborted("session dropped"));
}

std::string ReplicaSession::RepoHex() const {
  return hello_ ? RepoIdHex(hello_->repo_id) : std::string("?");
}

Status ReplicaSession::OnMessage(const protocol::Message& msg) {
  bool admitted = hello_.has_value();
  Status s = Dispatch(msg);
  if (s.ok()) return s;
  store_->metrics().errors++;
  error_logged_ = true;
  if (!admitted) {
    store_->metrics().refused_sessions++;
    spdlog::warn("refused {} from {}: {}", ShortKey(peer_.client_key), peer_.address, s.message());
  } else {
    spdlog::warn("session {} from {}, repository {}: {}: {}", ShortKey(peer_.client_key),
                 peer_.address, RepoHex(), protocol::MessageTypeName(msg.type), s.ToString());
  }
  return s;
}

Status ReplicaSession::Dispatch(const protocol::Message& msg) {
  if (!hello_) {
    if (msg.type != MessageType::kHello)
      return Status::InvalidArgument(std::string("expected HELLO first, got ") +
                                     protocol::MessageTypeName(msg.type));
    return OnHello(msg);
  }
  SNAP_RETURN_IF_ERROR(CheckAllowed(msg.type));
  switch (msg.type) {
    case MessageType::kPutConfig:
      return OnPutConfig(msg);
    case MessageType::kHave:
      return OnHave(msg);
    case MessageType::kFrame:
      return OnFrame(msg);
    case MessageType::kCommitSnapshot:
      return OnCommit(msg);
    case MessageType::kGetConfig:
      return OnGetConfig();
    case MessageType::kListSnapshots:
      return OnListSnapshots();
    case MessageType::kGetSnapshot:
      return OnGetSnapshot(msg);
    case MessageType::kGetChunks:
      return OnGetChunks(msg);
    case MessageType::kError:
      return OnClientError(msg);
    case MessageType::kBye:
      done_ = true;
      return Status::OK();
    default:
      return Status::OK();  // CheckAllowed let only the above through
  }
}

Status ReplicaSession::CheckAllowed(MessageType type) const {
  if (type == MessageType::kHello) return Status::InvalidArgument("HELLO sent twice");
  if (type == MessageType::kBye || type == MessageType::kError || IsReadMessage(type))
    return Status::OK();
  if (IsPushMessage(type)) {
    if (hello_->role == Role::kPush) return Status::OK();
    return Status::InvalidArgument(std::string("message ") + protocol::MessageTypeName(type) +
                                   ": not allowed in a read session");
  }
  return Status::NotSupported(std::string("message ") + protocol::MessageTypeName(type) +
                              ": not supported; the replica is append-only and accepts no "
                              "deletes or overwrites");
}

Status ReplicaSession::OnHello(const protocol::Message& msg) {
  SNAP_ASSIGN_OR_RETURN(protocol::Hello hello, protocol::Hello::Decode(msg.body));
  if (hello.version != protocol::kProtocolVersion)
    return Status::NotSupported("protocol version " + std::to_string(hello.version) +
                                " not supported; this replica speaks version " +
                                std::to_string(protocol::kProtocolVersion));
  Result<std::shared_ptr<const ClientList>> clients = store_->Clients();
  if (!clients.ok()) {
    spdlog::error("admission list: {}", clients.status().ToString());
    return Status::Unavailable("the replica cannot read its admission list; its log says why");
  }
  SNAP_RETURN_IF_ERROR(Admit(hello, **clients));
  hello_ = hello;
  spdlog::info("session {} from {} ({}): {} repository {}", ShortKey(peer_.client_key),
               peer_.address, Printable(hello.client_name),
               hello.role == Role::kPush ? "push" : "read", RepoHex());
  protocol::Welcome w;
  w.repo_exists = repo_ != nullptr;
  w.server_name = HostName();
  Buffer body;
  w.EncodeTo(&body);
  Queue(MessageType::kWelcome, body);
  return Status::OK();
}

Status ReplicaSession::Admit(const protocol::Hello& hello, const ClientList& clients) {
  const std::string& key = peer_.client_key;
  std::string id = RepoIdHex(hello.repo_id);
  SNAP_ASSIGN_OR_RETURN(std::shared_ptr<ReplicaRepo> repo, store_->Find(hello.repo_id));
  bool pusher = !key.empty() && clients.MayPush(key);
  bool owns = pusher && repo && repo->owner() == key;
  std::string command = "replicad allow --dir " + store_->dir() + " " + key;
  std::string read_command = command + " --read-only --repo " + id;
  std::string who =
      "client " + ShortKey(key.empty() ? "(no key)" : key) + ": not admitted to repository " + id;
  if (hello.role == Role::kPush) {
    if (!pusher) return Status::InvalidArgument(who + "; on the replica run: " + command);
    if (repo && !owns)
      return Status::InvalidArgument(who +
                                     ": another client owns it; to let this one read "
                                     "it, on the replica run: " +
                                     read_command);
    SNAP_ASSIGN_OR_RETURN(PushLease lease, store_->AcquirePush(hello.repo_id));
    // Another push may have created the repository since the look-up above.
    if (!repo) {
      SNAP_ASSIGN_OR_RETURN(repo, store_->Find(hello.repo_id));
    }
    if (repo && repo->owner() != key)
      return Status::InvalidArgument(who + ": another client owns it");
    lease_.emplace(std::move(lease));
    repo_ = repo;
    if (repo_) push_ = std::make_unique<PushWriter>(repo_.get());
    return Status::OK();
  }
  if (hello.role != Role::kRead) return Status::InvalidArgument("HELLO: unknown role");
  // A pusher may read what it owns, and ask about a repository nobody
  // holds yet (every read then answers NotFound).
  bool may_read = clients.MayRead(key, hello.repo_id) || owns || (pusher && !repo);
  if (!may_read) return Status::InvalidArgument(who + "; on the replica run: " + read_command);
  repo_ = repo;
  return Status::OK();
}

Status ReplicaSession::RequireRepo() const {
  if (repo_) return Status::OK();
  if (hello_->role == Role::kPush)
    return Status::InvalidArgument("repository " + RepoHex() +
                                   " does not exist on the replica yet; send PUT_CONFIG first");
  return Status::NotFound("repository " + RepoHex() + ": not held by this replica");
}

Status ReplicaSession::OnPutConfig(const protocol::Message& msg) {
  if (repo_) {
    if (Equal(msg.body, repo_->config_bytes())) return Status::OK();
    return Status::InvalidArgument("repository " + RepoHex() +
                                   ": config already held with other content; the replica is "
                                   "append-only");
  }
  SNAP_ASSIGN_OR_RETURN(repo_, store_->Create(*lease_, msg.body, peer_.client_key));
  push_ = std::make_unique<PushWriter>(repo_.get());
  spdlog::info("repository {} created, owner {}", RepoHex(), peer_.client_key);
  return Status::OK();
}

Status ReplicaSession::OnHave(const protocol::Message& msg) {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  SNAP_ASSIGN_OR_RETURN(protocol::IdList ids, protocol::IdList::Decode(msg.body));
  protocol::HaveReply reply;
  SNAP_RETURN_IF_ERROR(push_->Have(ids.ids, &reply.have));
  Buffer body;
  reply.EncodeTo(&body);
  Queue(MessageType::kHaveReply, body);
  return Status::OK();
}

Status ReplicaSession::OnFrame(const protocol::Message& msg) {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  SNAP_ASSIGN_OR_RETURN(bool accepted, push_->AddFrame(msg.body));
  if (accepted) {
    store_->metrics().received_chunks++;
    store_->metrics().received_bytes += msg.body.size();
  }
  return Status::OK();
}

Status ReplicaSession::OnCommit(const protocol::Message& msg) {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  SNAP_ASSIGN_OR_RETURN(protocol::SnapshotObjectMessage m,
                        protocol::SnapshotObjectMessage::Decode(msg.body));
  SNAP_ASSIGN_OR_RETURN(bool created, push_->Commit(m.id, m.object));
  if (created) {
    store_->metrics().snapshots_committed++;
    store_->metrics().received_bytes += m.object.size();
    spdlog::info("repository {}: snapshot {} committed", RepoHex(), m.id.ShortHex());
  }
  protocol::Committed reply{m.id, created};
  Buffer body;
  reply.EncodeTo(&body);
  Queue(MessageType::kCommitted, body);
  return Status::OK();
}

// A client that gives up says why, then closes: end the session quietly.
Status ReplicaSession::OnClientError(const protocol::Message& msg) {
  Result<protocol::Error> e = protocol::Error::Decode(msg.body);
  spdlog::warn("session {} from {}, repository {}: the client gave up: {}",
               ShortKey(peer_.client_key), peer_.address, RepoHex(),
               Printable(e.ok() ? e->message : e.status().ToString()));
  done_ = true;
  return Status::OK();
}

void ReplicaSession::OnClose(const Status& why) {
  if (closed_) return;
  closed_ = true;
  store_->metrics().sessions_active--;
  if (push_ && push_->pending_frames() > 0) {
    size_t pending = push_->pending_frames();
    Status s = push_->Flush();
    if (s.ok())
      spdlog::info("repository {}: kept {} chunks of an unfinished push", RepoHex(), pending);
    else
      spdlog::error("repository {}: writing the pending pack: {}", RepoHex(), s.ToString());
  }
  push_.reset();
  lease_.reset();
  repo_.reset();  // the last session's handle closes the repository (replica_store.h)
  if (!why.ok())
    spdlog::log(error_logged_ ? spdlog::level::debug : spdlog::level::info,
                "session {} from {} ended: {}", ShortKey(peer_.client_key), peer_.address,
                why.ToString());
}

}  // namespace snap::replicator::server
