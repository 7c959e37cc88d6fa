// The snapctl config file (TOML, default /etc/snapctl/snapctl.toml,
// --config to choose): what `snapctl snapshot` with no arguments captures,
// and the restore profiles. See README "Config file" for the full example.
//
//   [repository]   path, password_file, key_file
//   [source.NAME]  path, exclude = [globs], exclude_caches
//   [dump.NAME]    kind = "mysql" | "postgres" | "mongodb" | "command",
//                  database, options (extra arguments), format (postgres:
//                  "plain" | "custom"), command (kind "command", or to
//                  override a preset), restore (the restore command)
//   [hooks]        pre, post
//   [chunking.files], [chunking.dumps]  min, avg, max (used by `init`)
//   [profile.NAME] sources = [..], dumps = [..], post = [commands]
//   [peer.NAME]    url = "replica://HOST:PORT", fingerprint = "sha256:..."
//   [replication]  attempts (per snapshot and run, default 3),
//                  backoff_seconds (first retry's wait, doubling; default 2)
//   [retention]    keep_last, keep_hourly, keep_daily, keep_weekly,
//                  keep_monthly, keep_yearly (counts), keep_within (a
//                  duration, "30d"): `snapctl forget` with no --keep-*
//
// Loading validates everything; an error names the file, the line and the
// key ("/etc/snapctl/snapctl.toml:12: dump.catalog.kind: unknown kind
// 'mysq'; use mysql, postgres, mongodb or command").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"

namespace snap::cli {

struct SourceConfig {
  std::string name, path;
  std::vector<std::string> excludes;
  bool exclude_caches = false;
};

enum class DumpKind { kMysql, kPostgres, kMongodb, kCommand };

struct DumpConfig {
  std::string name;
  DumpKind kind = DumpKind::kCommand;
  std::string database;  // presets: the database (empty: all, where the tool allows)
  std::string options;   // extra arguments appended to the preset's command
  std::string format = "plain";  // postgres: plain | custom
  std::string command;   // the dump command actually run (preset expanded)
  std::string restore;   // the restore command (preset default unless given)
};

struct ChunkingConfig {
  std::optional<uint32_t> min, avg, max;
};

struct ProfileConfig {
  std::string name;
  std::vector<std::string> sources;  // empty: all sources
  std::vector<std::string> dumps;    // dumps whose restore command runs
  std::vector<std::string> post;     // commands run after, in the target
};

struct PeerConfig {
  std::string name, url, fingerprint;
};

struct ReplicationConfig {
  int attempts = 3;
  int backoff_seconds = 2;
};

// The retention policy `forget` applies when given no --keep-* option;
// 0 / empty: no such rule.
struct RetentionConfig {
  int keep_last = 0, keep_hourly = 0, keep_daily = 0, keep_weekly = 0, keep_monthly = 0,
      keep_yearly = 0;
  std::string keep_within;  // a duration, validated ("30d", "1y6m")
};

struct ConfigFile {
  std::string path;  // where it was loaded from
  std::string repository, password_file, key_file;
  std::vector<SourceConfig> sources;  // in file order
  std::vector<DumpConfig> dumps;      // in file order
  std::string pre_hook, post_hook;
  ChunkingConfig file_chunking, dump_chunking;
  std::map<std::string, ProfileConfig> profiles;
  std::vector<PeerConfig> peers;  // in file order
  ReplicationConfig replication;
  RetentionConfig retention;

  const DumpConfig* FindDump(std::string_view name) const;
  const ProfileConfig* FindProfile(std::string_view name) const;
};

// Parses and validates `path`. InvalidArgument with "file:line: key: what
// is wrong" for every error; NotFound when the file does not exist.
engine::Result<ConfigFile> LoadConfigFile(const std::string& path);
// Same, from text (for tests); `path` only names it in messages.
engine::Result<ConfigFile> ParseConfigText(std::string_view text, const std::string& path);

// The dump command and default restore command of a preset (or the given
// command for kind "command"). Shell words of `database` and `options` are
// passed as they are; `database` is single-quoted.
std::string PresetDumpCommand(const DumpConfig& d);
std::string PresetRestoreCommand(const DumpConfig& d);

}  // namespace snap::cli
