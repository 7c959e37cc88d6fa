#include "replicator/client/session.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace snap::replicator::client {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

std::string DefaultIdentityDir() {
  std::string home = EnvOr("HOME", "/root");
  std::string config = EnvOr("XDG_CONFIG_HOME", home + "/.config");
  return EnvOr("SNAPCTL_IDENTITY_DIR", config + "/snapctl/identity");
}

Result<net::TlsIdentity> LoadOrCreateIdentity(const std::string& dir) {
  Result<net::TlsIdentity> id = net::LoadIdentity(dir);
  if (!id.status().IsNotFound()) return id;
  SNAP_ASSIGN_OR_RETURN(net::TlsIdentity fresh, net::GenerateIdentity("snapctl client " + HostName()));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(dir).parent_path(), ec);
  Status saved = net::SaveIdentity(dir, fresh);
  if (!saved.ok()) {
    // Another process may have created it first: theirs wins.
    Result<net::TlsIdentity> again = net::LoadIdentity(dir);
    if (again.ok()) return again;
    return saved;
  }
  return fresh;
}

Result<protocol::Message> Expect(net::Channel& ch, protocol::MessageType want) {
  SNAP_ASSIGN_OR_RETURN(protocol::Message m, ch.Receive());
  if (m.type != want)
    return Status::Corruption("replica " + ch.peer() + ": sent " +
                              protocol::MessageTypeName(m.type) + " where " +
                              protocol::MessageTypeName(want) + " was due");
  return m;
}

Result<Session> OpenSession(const ReplicaUrl& url, const std::string& fingerprint,
                            const net::TlsIdentity& identity, protocol::Role role,
                            const protocol::RepoId& repo_id, std::chrono::milliseconds timeout) {
  net::ChannelOptions opts;
  opts.host = url.host;
  opts.port = url.port;
  opts.server_fingerprint = fingerprint;
  opts.identity = identity;
  opts.timeout = timeout;
  Session s;
  SNAP_ASSIGN_OR_RETURN(s.channel, net::Channel::Connect(opts));
  protocol::Hello hello;
  hello.role = role;
  hello.repo_id = repo_id;
  hello.client_name = HostName();
  engine::Buffer body;
  hello.EncodeTo(&body);
  SNAP_RETURN_IF_ERROR(s.channel->Send(protocol::MessageType::kHello, body));
  SNAP_ASSIGN_OR_RETURN(protocol::Message m, Expect(*s.channel, protocol::MessageType::kWelcome));
  Result<protocol::Welcome> w = protocol::Welcome::Decode(m.body);
  if (!w.ok()) return w.status().WithContext("replica " + s.channel->peer());
  s.welcome = *w;
  return s;
}

void CloseSession(Session* s) {
  if (!s->channel) return;
  (void)s->channel->Send(protocol::MessageType::kBye, {});
  (void)s->channel->Flush();
}

}  // namespace snap::replicator::client
