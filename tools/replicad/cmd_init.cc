// replicad init --dir DIR
// replicad fingerprint --dir DIR
#include <filesystem>
#include <iostream>
#include <memory>

#include "replicator/net/tls_identity.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

using replicator::server::ReplicaStore;

int RunInit(const std::string& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec)) {
    std::cerr << "replicad: " << dir
              << ": not empty; a replica is created in a new or empty directory\n";
    return kExitNotFound;  // refused
  }
  engine::Result<std::string> fp = ReplicaStore::Init(dir);
  if (!fp.ok()) return Fail(fp.status());
  std::cout << "created replica at " << dir << "\n"
            << "fingerprint: " << *fp << "\n\n"
            << "next steps:\n"
            << "  1. on each client, print its key:   snapctl identity\n"
            << "  2. admit it here:                    replicad allow --dir " << dir
            << " <client key>\n"
            << "     (read-only restores of one repository: add --read-only --repo <id>)\n"
            << "  3. serve:                            replicad serve --dir " << dir
            << " --listen 0.0.0.0:7411 --http 127.0.0.1:7412\n"
            << "  4. on each client, add this replica (it pins the fingerprint):\n"
            << "       snapctl peer add NAME replica://HOST:7411 --fingerprint " << *fp << "\n";
  return 0;
}

int RunFingerprint(const std::string& dir) {
  engine::Result<std::string> clients = ReplicaStore::ClientsFilePath(dir);
  if (!clients.ok()) return Fail(clients.status());
  engine::Result<replicator::net::TlsIdentity> id =
      replicator::net::LoadIdentity(dir + "/identity");
  if (!id.ok()) return Fail(id.status());
  engine::Result<std::string> fp = replicator::net::Fingerprint(*id);
  if (!fp.ok()) return Fail(fp.status());
  std::cout << *fp << "\n";
  return 0;
}

}  // namespace

void RegisterInit(CLI::App& app, Globals& g) {
  auto dir = std::make_shared<std::string>();
  auto* init = app.add_subcommand("init", "create a replica directory and its identity");
  init->add_option("--dir", *dir, "the replica directory (absent or empty)")->required();
  init->callback([&g, dir] { g.run = [dir] { return RunInit(*dir); }; });

  auto* fp = app.add_subcommand("fingerprint", "print the replica's fingerprint (clients pin it)");
  fp->add_option("--dir", *dir, "the replica directory")->required();
  fp->callback([&g, dir] { g.run = [dir] { return RunFingerprint(*dir); }; });
}

}  // namespace snap::replicad
