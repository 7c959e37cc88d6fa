// The snapctl command line: global options, shared helpers, and one
// Register<Verb> per subcommand (cmd_<verb>.cc). Exit codes: 0 success,
// 1 the operation failed (message on stderr), 2 usage error, 3 check found
// problems.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/repository.h"
#include "engine/result.h"
#include "tools/snapctl/config_file.h"

namespace snap::cli {

struct Globals {
  std::string repo;           // --repo or SNAPCTL_REPO
  std::string password_file;  // --password-file or SNAPCTL_PASSWORD_FILE
  std::string key_file;       // --key-file or SNAPCTL_KEY_FILE
  std::string config;         // --config or SNAPCTL_CONFIG
  bool config_given = false;  // else the default path, used only if it exists
  bool json = false;
  bool quiet = false;
  // Set by the chosen subcommand; returns the exit code.
  std::function<int()> run;
};

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCheckFailed = 3;

// Runs snapctl with argv; returns the exit code. Never throws.
int RunCli(int argc, char** argv);

void RegisterInit(CLI::App& app, Globals& g);
void RegisterSnapshot(CLI::App& app, Globals& g);
void RegisterList(CLI::App& app, Globals& g);
void RegisterLs(CLI::App& app, Globals& g);
void RegisterDiff(CLI::App& app, Globals& g);
void RegisterRestore(CLI::App& app, Globals& g);
void RegisterCheck(CLI::App& app, Globals& g);
void RegisterStats(CLI::App& app, Globals& g);
void RegisterDump(CLI::App& app, Globals& g);
void RegisterIdentity(CLI::App& app, Globals& g);
void RegisterInfo(CLI::App& app, Globals& g);
void RegisterKey(CLI::App& app, Globals& g);
void RegisterPeer(CLI::App& app, Globals& g);
void RegisterReplicate(CLI::App& app, Globals& g);
void RegisterStatus(CLI::App& app, Globals& g);
void RegisterForget(CLI::App& app, Globals& g);
void RegisterGc(CLI::App& app, Globals& g);

inline constexpr char kDefaultConfigPath[] = "/etc/snapctl/snapctl.toml";

// Helpers for subcommands.
// Opens the repository; `read_only` commands still work while another
// snapctl process (a running snapshot) holds the index.
engine::Result<std::unique_ptr<engine::Repository>> OpenRepo(const Globals& g,
                                                            bool read_only = false);
engine::Result<std::string> ReadPassphrase(const Globals& g);  // NotFound when none given
// The passphrase and key file the globals name, for opening a repository.
engine::Result<engine::Credentials> CredentialsOf(const Globals& g);
// The config file: the one given (an error if unreadable), else the default
// path when it exists, else std::nullopt.
engine::Result<std::optional<ConfigFile>> LoadConfig(const Globals& g);
// Fills repo, password file and key file from the config where the command
// line and environment left them empty.
engine::Status ApplyConfigDefaults(Globals& g);
// The JSON Fail prints under --json: {"error": message, "code": name}.
nlohmann::json ErrorJson(const engine::Status& s);
int Fail(const Globals& g, const engine::Status& s);          // prints, returns kExitFailure
void PrintJson(const nlohmann::json& j);
std::string FormatTime(int64_t ns);                            // 2026-11-20T03:00:00Z
// Parses "2026-11-20T03:00", "2026-11-20 03:00:05", "2026-11-20" (UTC
// unless a trailing Z/offset says otherwise) into ns since the epoch.
engine::Result<int64_t> ParseTime(std::string_view text);
std::string HumanBytes(uint64_t n);
// True when progress should be drawn (stderr is a terminal, not -q/--json).
bool ShowProgress(const Globals& g);

}  // namespace snap::cli
