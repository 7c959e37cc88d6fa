#include "tools/snapctl/cli.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace snap::cli {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"snapctl: deduplicating, encrypted snapshots of directories and dumps"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  Globals g;
  g.repo = Env("SNAPCTL_REPO");
  g.password_file = Env("SNAPCTL_PASSWORD_FILE");
  g.key_file = Env("SNAPCTL_KEY_FILE");
  app.add_option("--repo,-r", g.repo, "repository directory (or SNAPCTL_REPO)");
  app.add_option("--password-file", g.password_file, "file holding the passphrase");
  app.add_option("--key-file", g.key_file, "key file unlocking the repository");
  g.config = Env("SNAPCTL_CONFIG");
  g.config_given = !g.config.empty();
  app.add_option("--config,-c", g.config, "config file (default /etc/snapctl/snapctl.toml)")
      ->each([&g](const std::string&) { g.config_given = true; });
  app.add_flag("--json", g.json, "machine-readable output");
  app.add_flag("-q,--quiet", g.quiet, "print nothing but errors");
  RegisterInit(app, g);
  RegisterSnapshot(app, g);
  RegisterList(app, g);
  RegisterLs(app, g);
  RegisterDiff(app, g);
  RegisterRestore(app, g);
  RegisterCheck(app, g);
  RegisterStats(app, g);
  RegisterDump(app, g);
  RegisterIdentity(app, g);
  RegisterInfo(app, g);
  RegisterKey(app, g);
  RegisterPeer(app, g);
  RegisterReplicate(app, g);
  RegisterStatus(app, g);
  RegisterForget(app, g);
  RegisterGc(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  try {
    if (!g.run) return kExitUsage;
    engine::Status defaults = ApplyConfigDefaults(g);
    if (!defaults.ok()) return Fail(g, defaults);
    return g.run();
  } catch (const std::exception& e) {
    std::cerr << "snapctl: " << e.what() << "\n";
    return kExitFailure;
  }
}

engine::Result<std::string> ReadPassphrase(const Globals& g) {
  if (!g.password_file.empty()) {
    std::ifstream in(g.password_file);
    if (!in) return engine::Status::InvalidArgument(g.password_file + ": cannot read password file");
    std::string line;
    std::getline(in, line);
    if (line.empty()) return engine::Status::InvalidArgument(g.password_file + ": empty password");
    return line;
  }
  std::string env = Env("SNAPCTL_PASSWORD");
  if (!env.empty()) return env;
  return engine::Status::NotFound("no passphrase");
}

engine::Result<std::optional<ConfigFile>> LoadConfig(const Globals& g) {
  std::string path = g.config_given ? g.config : kDefaultConfigPath;
  engine::Result<ConfigFile> c = LoadConfigFile(path);
  if (c.ok()) return std::optional<ConfigFile>(std::move(*c));
  if (c.status().IsNotFound() && !g.config_given) return std::optional<ConfigFile>();
  return c.status();
}

engine::Status ApplyConfigDefaults(Globals& g) {
  SNAP_ASSIGN_OR_RETURN(std::optional<ConfigFile> c, LoadConfig(g));
  if (!c) return engine::Status::OK();
  if (g.repo.empty()) g.repo = c->repository;
  if (g.password_file.empty() && std::getenv("SNAPCTL_PASSWORD") == nullptr)
    g.password_file = c->password_file;
  if (g.key_file.empty()) g.key_file = c->key_file;
  return engine::Status::OK();
}

engine::Result<engine::Credentials> CredentialsOf(const Globals& g) {
  engine::Credentials c;
  engine::Result<std::string> pass = ReadPassphrase(g);
  if (pass.ok()) c.passphrase = *pass;
  else if (!pass.status().IsNotFound()) return pass.status();
  if (!g.key_file.empty()) c.key_file = g.key_file;
  return c;
}

engine::Result<std::unique_ptr<engine::Repository>> OpenRepo(const Globals& g, bool read_only) {
  if (g.repo.empty())
    return engine::Status::InvalidArgument("no repository given: pass --repo DIR or set SNAPCTL_REPO");
  SNAP_ASSIGN_OR_RETURN(engine::Credentials c, CredentialsOf(g));
  return engine::Repository::Open(
      g.repo, c,
      read_only ? engine::Repository::Mode::kReadOnly : engine::Repository::Mode::kReadWrite);
}

nlohmann::json ErrorJson(const engine::Status& s) {
  return {{"error", s.message()}, {"code", std::string(engine::CodeName(s.code()))}};
}

int Fail(const Globals& g, const engine::Status& s) {
  if (g.json) PrintJson(ErrorJson(s));
  std::cerr << "snapctl: " << s.message() << "\n";
  return kExitFailure;
}

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << "\n"; }

std::string FormatTime(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

engine::Result<int64_t> ParseTime(std::string_view text) {
  std::string t(text);
  for (char& c : t)
    if (c == ' ') c = 'T';
  bool utc_suffix = !t.empty() && (t.back() == 'Z' || t.back() == 'z');
  if (utc_suffix) t.pop_back();
  std::tm tm{};
  const char* formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
  for (const char* f : formats) {
    tm = {};
    const char* end = strptime(t.c_str(), f, &tm);
    if (end && *end == '\0') {
      std::time_t secs = timegm(&tm);
      return static_cast<int64_t>(secs) * 1000000000 + 999999999;  // the whole second counts
    }
  }
  return engine::Status::InvalidArgument("cannot read time '" + std::string(text) +
                                         "': use 2026-11-20T03:00[:00] (UTC)");
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

bool ShowProgress(const Globals& g) { return !g.quiet && !g.json && isatty(STDERR_FILENO); }

}  // namespace snap::cli
