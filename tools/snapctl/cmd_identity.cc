// snapctl identity: prints this user's client key, creating the identity on
// first use. The replica admin admits it with `replicad allow`.
#include <iostream>

#include "replicator/client/session.h"
#include "replicator/net/tls_identity.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

int Run(const Globals& g) {
  auto id = replicator::client::LoadOrCreateIdentity();
  if (!id.ok()) return Fail(g, id.status());
  auto fp = replicator::net::Fingerprint(*id);
  if (!fp.ok()) return Fail(g, fp.status());
  if (g.json)
    PrintJson({{"client_key", *fp}, {"dir", replicator::client::DefaultIdentityDir()}});
  else
    std::cout << *fp << "\n";
  return 0;
}

}  // namespace

void RegisterIdentity(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand(
      "identity", "print this user's client key (for `replicad allow` on the replica)");
  cmd->callback([&g] { g.run = [&g] { return Run(g); }; });
}

}  // namespace snap::cli
