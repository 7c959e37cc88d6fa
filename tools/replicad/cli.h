// The replicad command line: shared helpers and one Register<Verb> per
// subcommand (cmd_<verb>.cc). Exit codes: 0 success, 1 the operation
// failed (message on stderr), 2 usage error, 3 not found or refused.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/result.h"

namespace snap::replicator::server {
class ReplicaRepo;
}

namespace snap::replicad {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitCheckFailed = 3;  // `replicad check` found damage (as snapctl)

struct Globals {
  // Set by the chosen subcommand; returns the exit code.
  std::function<int()> run;
};

// Runs replicad with argv; returns the exit code. Never throws.
int RunCli(int argc, char** argv);

void RegisterInit(CLI::App& app, Globals& g);  // init, fingerprint
void RegisterAllow(CLI::App& app, Globals& g);
void RegisterServe(CLI::App& app, Globals& g);
void RegisterList(CLI::App& app, Globals& g);
void RegisterForget(CLI::App& app, Globals& g);
void RegisterGc(CLI::App& app, Globals& g);
void RegisterCheck(CLI::App& app, Globals& g);

// Prints "replicad: <message>" to stderr; returns kExitNotFound for
// NotFound, else kExitFailure.
int Fail(const engine::Status& s);
// Prints a usage error; returns kExitUsage.
int UsageError(const std::string& message);

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// "HOST:PORT" or "[V6]:PORT"; PORT 0 asks for an ephemeral port.
// InvalidArgument naming the text otherwise.
engine::Result<HostPort> ParseHostPort(const std::string& text);
std::string FormatHostPort(const std::string& host, uint16_t port);

// Opens repository `repo` of the replica directory `dir` for the admin
// command `verb` (forget, gc): alone, waiting while `replicad serve`'s
// sessions use it (with a note on stderr), and refusing its sessions until
// closed; or, for a dry run, read-only: neither waiting nor in the way.
engine::Result<std::unique_ptr<replicator::server::ReplicaRepo>> ReplicaForAdmin(
    const std::string& dir, const std::string& repo, const std::string& verb, bool dry_run);

std::string FormatTime(int64_t ns);  // 2026-11-20T03:00:00Z
std::string HumanBytes(uint64_t n);

}  // namespace snap::replicad
