// Loading and validating the snapctl config file (see config_file.h).
//
// toml++ is used only here. It throws toml::parse_error, which is converted
// into a Status at the one place it can arise. Validation collects every
// error rather than stopping at the first, so one edit can fix them all, and
// reports them in line order.
#include "tools/snapctl/config_file.h"

#include <fcntl.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/gc.h"

namespace snap::cli {
namespace {

using engine::Result;
using engine::Status;

// A key segment as it would be written in TOML: bare when it can be,
// quoted otherwise (so an empty or odd name is still visible in a message).
std::string KeyText(std::string_view k) {
  bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  if (bare) return std::string(k);
  std::string out = "\"";
  for (char c : k) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[(c >> 4) & 0xf];
      out += kHex[c & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Join(std::string_view parent, std::string_view k) {
  return std::string(parent) + "." + KeyText(k);
}

std::string TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// True when `name` can be one entry of a snapshot's top directory.
bool IsPathComponent(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

bool Before(const toml::source_region& a, const toml::source_region& b) {
  return std::pair(a.begin.line, a.begin.column) < std::pair(b.begin.line, b.begin.column);
}

// The errors found so far, each "file:line: key: what".
class Errors {
 public:
  explicit Errors(const std::string& file) : file_(file) {}

  void Add(const toml::source_region& at, std::string_view key, std::string_view what) {
    list_.emplace_back(at.begin.line, file_ + ":" + std::to_string(at.begin.line) + ": " +
                                          std::string(key) + ": " + std::string(what));
  }
  void Add(const toml::node& at, std::string_view key, std::string_view what) {
    Add(at.source(), key, what);
  }
  void WrongType(const toml::node& v, std::string_view key, std::string_view want) {
    Add(v, key, "must be " + std::string(want) + ", not " + TypeName(v));
  }
  void UnknownKey(const toml::key& k, std::string_view key, std::string_view expected) {
    Add(k.source(), key, "unknown key; expected " + std::string(expected));
  }

  bool empty() const { return list_.empty(); }
  Status ToStatus() {
    std::stable_sort(list_.begin(), list_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string msg;
    for (const auto& [line, text] : list_) msg += (msg.empty() ? "" : "\n") + text;
    return Status::InvalidArgument(std::move(msg));
  }

 private:
  std::string file_;
  std::vector<std::pair<uint32_t, std::string>> list_;
};

// A name used somewhere (a [source.X], or an entry of a profile's list),
// checked once the whole file has been read.
struct NameUse {
  std::string name, key;
  toml::source_region at;
};

class Parser {
 public:
  explicit Parser(const std::string& file) : errors_(file) { cfg_.path = file; }

  Result<ConfigFile> Run(const toml::table& root);

 private:
  using Named = std::vector<std::pair<const toml::key*, const toml::table*>>;

  Named NamedTables(const toml::node& v, std::string_view section);
  const toml::table* Table(const toml::node& v, std::string_view key);
  bool String(const toml::node& v, std::string_view key, std::string& out);
  bool Bool(const toml::node& v, std::string_view key, bool& out);
  void Strings(const toml::node& v, std::string_view key, std::vector<std::string>& out,
               std::vector<NameUse>* uses = nullptr);

  void ParseRepository(const toml::table& t);
  void ParseHooks(const toml::table& t);
  void ParseSource(const toml::key& name, const toml::table& t);
  void ParseDump(const toml::key& name, const toml::table& t);
  void CheckDump(const DumpConfig& d, const toml::table& t, std::string_view key);
  void ParseChunking(const toml::table& t);
  void ParseChunkSizes(const toml::node& v, std::string_view key, ChunkingConfig& out);
  void ParseProfile(const toml::key& name, const toml::table& t);
  void ParsePeer(const toml::key& name, const toml::table& t);
  void ParseReplication(const toml::table& t);
  void ParseRetention(const toml::table& t);
  bool Count(const toml::node& v, std::string_view key, int max, int& out);
  void CheckSharedNames();
  void CheckProfileUses();

  Errors errors_;
  ConfigFile cfg_;
  std::vector<NameUse> snapshot_names_;  // sources and dumps: one namespace
  std::vector<NameUse> source_uses_, dump_uses_;
};

const toml::table* Parser::Table(const toml::node& v, std::string_view key) {
  const toml::table* t = v.as_table();
  if (!t) errors_.WrongType(v, key, "a table");
  return t;
}

bool Parser::String(const toml::node& v, std::string_view key, std::string& out) {
  const toml::value<std::string>* s = v.as_string();
  if (!s) {
    errors_.WrongType(v, key, "a string");
    return false;
  }
  out = s->get();
  return true;
}

bool Parser::Bool(const toml::node& v, std::string_view key, bool& out) {
  const toml::value<bool>* b = v.as_boolean();
  if (!b) {
    errors_.WrongType(v, key, "true or false");
    return false;
  }
  out = b->get();
  return true;
}

void Parser::Strings(const toml::node& v, std::string_view key, std::vector<std::string>& out,
                     std::vector<NameUse>* uses) {
  const toml::array* a = v.as_array();
  if (!a) return errors_.WrongType(v, key, "an array of strings, e.g. [\"a\", \"b\"]");
  for (size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = *a->get(i);
    std::string s;
    if (!String(e, std::string(key) + "[" + std::to_string(i) + "]", s)) continue;
    if (uses) uses->push_back({s, std::string(key), e.source()});
    out.push_back(std::move(s));
  }
}

// The [section.NAME] tables in file order (toml++ keeps keys sorted), with
// each name checked.
Parser::Named Parser::NamedTables(const toml::node& v, std::string_view section) {
  Named out;
  const toml::table* all = v.as_table();
  if (!all) {
    errors_.WrongType(v, section, "tables [" + std::string(section) + ".NAME]");
    return out;
  }
  for (auto&& [k, entry] : *all) {
    std::string key = Join(section, k.str());
    if (!IsPathComponent(k.str())) {
      errors_.Add(k.source(), key,
                  "the name must be one path component (not empty, \".\" or \"..\", without "
                  "'/' or NUL); rename it");
    }
    if (const toml::table* t = Table(entry, key)) out.emplace_back(&k, t);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return Before(a.first->source(), b.first->source());
  });
  return out;
}

Result<ConfigFile> Parser::Run(const toml::table& root) {
  for (auto&& [k, v] : root) {
    const std::string_view name = k.str();
    std::string key = KeyText(name);
    if (name == "repository") {
      if (const toml::table* t = Table(v, key)) ParseRepository(*t);
    } else if (name == "hooks") {
      if (const toml::table* t = Table(v, key)) ParseHooks(*t);
    } else if (name == "chunking") {
      if (const toml::table* t = Table(v, key)) ParseChunking(*t);
    } else if (name == "source") {
      for (auto [n, t] : NamedTables(v, name)) ParseSource(*n, *t);
    } else if (name == "dump") {
      for (auto [n, t] : NamedTables(v, name)) ParseDump(*n, *t);
    } else if (name == "profile") {
      for (auto [n, t] : NamedTables(v, name)) ParseProfile(*n, *t);
    } else if (name == "peer") {
      for (auto [n, t] : NamedTables(v, name)) ParsePeer(*n, *t);
    } else if (name == "replication") {
      if (const toml::table* t = Table(v, key)) ParseReplication(*t);
    } else if (name == "retention") {
      if (const toml::table* t = Table(v, key)) ParseRetention(*t);
    } else {
      errors_.Add(k.source(), key,
                  std::string(v.is_table() ? "unknown table" : "unknown key") +
                      "; expected repository, source, dump, hooks, chunking, profile, peer, "
                      "replication or retention");
    }
  }
  CheckSharedNames();
  CheckProfileUses();
  if (!errors_.empty()) return errors_.ToStatus();
  return std::move(cfg_);
}

void Parser::ParseRepository(const toml::table& t) {
  for (auto&& [k, v] : t) {
    std::string key = Join("repository", k.str());
    if (k == "path")
      String(v, key, cfg_.repository);
    else if (k == "password_file")
      String(v, key, cfg_.password_file);
    else if (k == "key_file")
      String(v, key, cfg_.key_file);
    else
      errors_.UnknownKey(k, key, "path, password_file, key_file");
  }
}

void Parser::ParseHooks(const toml::table& t) {
  for (auto&& [k, v] : t) {
    std::string key = Join("hooks", k.str());
    if (k == "pre")
      String(v, key, cfg_.pre_hook);
    else if (k == "post")
      String(v, key, cfg_.post_hook);
    else
      errors_.UnknownKey(k, key, "pre, post");
  }
}

void Parser::ParseSource(const toml::key& name, const toml::table& t) {
  SourceConfig s;
  s.name = name.str();
  const std::string key = Join("source", s.name);
  bool has_path = false;
  for (auto&& [k, v] : t) {
    std::string kkey = Join(key, k.str());
    if (k == "path") {
      has_path = true;
      if (String(v, kkey, s.path) && !s.path.starts_with('/'))
        errors_.Add(v, kkey, "\"" + s.path + "\" is not absolute; give the full path from /");
    } else if (k == "exclude") {
      Strings(v, kkey, s.excludes);
    } else if (k == "exclude_caches") {
      Bool(v, kkey, s.exclude_caches);
    } else {
      errors_.UnknownKey(k, kkey, "path, exclude, exclude_caches");
    }
  }
  if (!has_path) errors_.Add(t, key, "no path; add path = \"/absolute/directory\"");
  snapshot_names_.push_back({s.name, key, name.source()});
  cfg_.sources.push_back(std::move(s));
}

std::optional<DumpKind> KindFromName(std::string_view s) {
  if (s == "mysql") return DumpKind::kMysql;
  if (s == "postgres") return DumpKind::kPostgres;
  if (s == "mongodb") return DumpKind::kMongodb;
  if (s == "command") return DumpKind::kCommand;
  return std::nullopt;
}

void Parser::ParseDump(const toml::key& name, const toml::table& t) {
  DumpConfig d;
  d.name = name.str();
  const std::string key = Join("dump", d.name);
  bool kind_ok = true;
  for (auto&& [k, v] : t) {
    std::string kkey = Join(key, k.str());
    std::string kind;
    if (k == "kind") {
      if (!String(v, kkey, kind)) {
        kind_ok = false;
      } else if (std::optional<DumpKind> dk = KindFromName(kind)) {
        d.kind = *dk;
      } else {
        kind_ok = false;
        errors_.Add(v, kkey,
                    "unknown kind '" + kind + "'; use mysql, postgres, mongodb or command");
      }
    } else if (k == "database") {
      String(v, kkey, d.database);
    } else if (k == "options") {
      String(v, kkey, d.options);
    } else if (k == "format") {
      String(v, kkey, d.format);
    } else if (k == "command") {
      String(v, kkey, d.command);
    } else if (k == "restore") {
      String(v, kkey, d.restore);
    } else {
      errors_.UnknownKey(k, kkey, "kind, database, options, format, command, restore");
    }
  }
  if (kind_ok) CheckDump(d, t, key);
  // What runs is fixed here, so every later reader sees the expanded preset.
  d.command = PresetDumpCommand(d);
  d.restore = PresetRestoreCommand(d);
  snapshot_names_.push_back({d.name, key, name.source()});
  cfg_.dumps.push_back(std::move(d));
}

// The kind-specific rules; `d` holds a known kind.
void Parser::CheckDump(const DumpConfig& d, const toml::table& t, std::string_view key) {
  auto at = [&](std::string_view k) -> const toml::node& { return *t.get(k); };
  const bool has_kind = t.contains("kind");
  if (d.kind == DumpKind::kCommand) {
    if (d.command.empty()) {
      errors_.Add(t, key,
                  has_kind ? "kind \"command\" needs a command; add command = \"...\""
                           : "no kind and no command; add kind = \"mysql\" (or postgres, "
                             "mongodb) or command = \"...\"");
    }
    for (std::string_view k : {"database", "options"}) {
      if (t.contains(k))
        errors_.Add(at(k), Join(key, k),
                    "only the presets (mysql, postgres, mongodb) use it; write the arguments "
                    "into command");
    }
  }
  if (d.kind == DumpKind::kPostgres) {
    if (d.database.empty())
      errors_.Add(t, key, "kind \"postgres\" needs a database; add database = \"NAME\"");
    if (t.contains("format") && d.format != "plain" && d.format != "custom")
      errors_.Add(at("format"), Join(key, "format"),
                  "unknown format '" + d.format + "'; use plain or custom");
  } else if (t.contains("format")) {
    errors_.Add(at("format"), Join(key, "format"),
                "only kind \"postgres\" has a format; remove it");
  }
}

void Parser::ParseChunking(const toml::table& t) {
  for (auto&& [k, v] : t) {
    std::string key = Join("chunking", k.str());
    if (k == "files")
      ParseChunkSizes(v, key, cfg_.file_chunking);
    else if (k == "dumps")
      ParseChunkSizes(v, key, cfg_.dump_chunking);
    else
      errors_.UnknownKey(k, key, "files, dumps");
  }
}

void Parser::ParseChunkSizes(const toml::node& v, std::string_view key, ChunkingConfig& out) {
  const toml::table* t = Table(v, key);
  if (!t) return;
  const toml::node* at[3] = {};  // min, avg, max
  std::optional<uint32_t>* field[3] = {&out.min, &out.avg, &out.max};
  static constexpr std::string_view kNames[3] = {"min", "avg", "max"};
  for (auto&& [k, n] : *t) {
    std::string kkey = Join(key, k.str());
    auto i = std::find(std::begin(kNames), std::end(kNames), k.str()) - std::begin(kNames);
    if (i == 3) {
      errors_.UnknownKey(k, kkey, "min, avg, max");
      continue;
    }
    at[i] = &n;
    const toml::value<int64_t>* num = n.as_integer();
    if (!num || num->get() <= 0 || num->get() > std::numeric_limits<uint32_t>::max()) {
      errors_.Add(n, kkey, "must be a positive integer number of bytes below 4 GiB");
      continue;
    }
    *field[i] = static_cast<uint32_t>(num->get());
  }
  const auto& [min, avg, max] = out;
  if (avg && (*avg & (*avg - 1)) != 0)
    errors_.Add(*at[1], Join(key, "avg"),
                std::to_string(*avg) + " is not a power of two; use " +
                    std::to_string(std::bit_floor(uint64_t{*avg})) + " or " +
                    std::to_string(std::bit_ceil(uint64_t{*avg})));
  if (min && avg && *min >= *avg)
    errors_.Add(*at[0], Join(key, "min"), "must be below avg (" + std::to_string(*avg) + ")");
  if (avg && max && *avg >= *max)
    errors_.Add(*at[2], Join(key, "max"), "must be above avg (" + std::to_string(*avg) + ")");
  if (min && max && !avg && *min >= *max)
    errors_.Add(*at[2], Join(key, "max"), "must be above min (" + std::to_string(*min) + ")");
}

void Parser::ParseProfile(const toml::key& name, const toml::table& t) {
  ProfileConfig p;
  p.name = name.str();
  const std::string key = Join("profile", p.name);
  for (auto&& [k, v] : t) {
    std::string kkey = Join(key, k.str());
    if (k == "sources")
      Strings(v, kkey, p.sources, &source_uses_);
    else if (k == "dumps")
      Strings(v, kkey, p.dumps, &dump_uses_);
    else if (k == "post")
      Strings(v, kkey, p.post);
    else
      errors_.UnknownKey(k, kkey, "sources, dumps, post");
  }
  cfg_.profiles.emplace(p.name, std::move(p));
}

void Parser::ParsePeer(const toml::key& name, const toml::table& t) {
  PeerConfig p;
  p.name = name.str();
  const std::string key = Join("peer", p.name);
  for (auto&& [k, v] : t) {
    std::string kkey = Join(key, k.str());
    if (k == "url")
      String(v, kkey, p.url);
    else if (k == "fingerprint")
      String(v, kkey, p.fingerprint);
    else
      errors_.UnknownKey(k, kkey, "url, fingerprint");
  }
  if (p.url.empty() || p.fingerprint.empty())
    errors_.Add(name.source(), key,
                "needs url = \"replica://HOST:PORT\" and fingerprint = \"sha256:...\" (from "
                "`replicad fingerprint` on the replica)");
  cfg_.peers.push_back(std::move(p));
}

bool Parser::Count(const toml::node& v, std::string_view key, int max, int& out) {
  const toml::value<int64_t>* num = v.as_integer();
  if (!num || num->get() < 1 || num->get() > max) {
    errors_.Add(v.source(), key, "expected a whole number from 1 to " + std::to_string(max));
    return false;
  }
  out = static_cast<int>(num->get());
  return true;
}

void Parser::ParseReplication(const toml::table& t) {
  for (auto&& [k, v] : t) {
    std::string key = Join("replication", k.str());
    if (k == "attempts")
      Count(v, key, 100, cfg_.replication.attempts);
    else if (k == "backoff_seconds")
      Count(v, key, 3600, cfg_.replication.backoff_seconds);
    else
      errors_.UnknownKey(k, key, "attempts, backoff_seconds");
  }
}

void Parser::ParseRetention(const toml::table& t) {
  RetentionConfig& r = cfg_.retention;
  const std::pair<std::string_view, int*> counts[] = {
      {"keep_last", &r.keep_last},       {"keep_hourly", &r.keep_hourly},
      {"keep_daily", &r.keep_daily},     {"keep_weekly", &r.keep_weekly},
      {"keep_monthly", &r.keep_monthly}, {"keep_yearly", &r.keep_yearly}};
  for (auto&& [k, v] : t) {
    std::string key = Join("retention", k.str());
    const std::string_view name = k.str();
    auto count = std::find_if(std::begin(counts), std::end(counts),
                              [name](const auto& c) { return c.first == name; });
    if (count != std::end(counts)) {
      Count(v, key, 1000000, *count->second);
    } else if (k == "keep_within") {
      std::string text;
      if (!String(v, key, text)) continue;
      Result<int64_t> d = engine::gc::ParseDuration(text);
      if (!d.ok()) errors_.Add(v.source(), key, d.status().message());
      else r.keep_within = text;
    } else {
      errors_.UnknownKey(k, key,
                         "keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, "
                         "keep_yearly, keep_within");
    }
  }
}

// A snapshot's top directory holds sources and dumps side by side, so one
// name may not serve both.
void Parser::CheckSharedNames() {
  std::sort(snapshot_names_.begin(), snapshot_names_.end(),
            [](const NameUse& a, const NameUse& b) { return Before(a.at, b.at); });
  for (size_t i = 0; i < snapshot_names_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      const NameUse& first = snapshot_names_[j];
      const NameUse& again = snapshot_names_[i];
      if (first.name != again.name) continue;
      errors_.Add(again.at, again.key,
                  "the name is already used by " + first.key + " (line " +
                      std::to_string(first.at.begin.line) +
                      "); sources and dumps share one namespace in a snapshot, rename one");
      break;
    }
  }
}

std::string NameList(const std::vector<std::string>& names) {
  if (names.empty()) return "none are defined";
  std::string out = "defined: ";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

void Parser::CheckProfileUses() {
  std::vector<std::string> sources, dumps;
  for (const SourceConfig& s : cfg_.sources) sources.push_back(s.name);
  for (const DumpConfig& d : cfg_.dumps) dumps.push_back(d.name);
  for (const NameUse& u : source_uses_) {
    if (std::find(sources.begin(), sources.end(), u.name) == sources.end())
      errors_.Add(u.at, u.key, "no source named \"" + u.name + "\" (" + NameList(sources) + ")");
  }
  for (const NameUse& u : dump_uses_) {
    const DumpConfig* d = cfg_.FindDump(u.name);
    if (!d) {
      errors_.Add(u.at, u.key, "no dump named \"" + u.name + "\" (" + NameList(dumps) + ")");
    } else if (d->restore.empty()) {
      errors_.Add(u.at, u.key,
                  "dump \"" + u.name +
                      "\" has no restore command; add restore = "
                      "\"...\" to [dump." +
                      KeyText(u.name) + "]");
    }
  }
}

}  // namespace

const DumpConfig* ConfigFile::FindDump(std::string_view name) const {
  for (const DumpConfig& d : dumps)
    if (d.name == name) return &d;
  return nullptr;
}

const ProfileConfig* ConfigFile::FindProfile(std::string_view name) const {
  auto it = profiles.find(std::string(name));
  return it == profiles.end() ? nullptr : &it->second;
}

Result<ConfigFile> ParseConfigText(std::string_view text, const std::string& path) {
  try {
    toml::table root = toml::parse(text, std::string_view(path));
    return Parser(path).Run(root);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Status::InvalidArgument(path + ":" + std::to_string(at.line) + ":" +
                                   std::to_string(at.column) + ": " + std::string(e.description()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
}

Result<ConfigFile> LoadConfigFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("config file " + path, errno);
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("config file " + path, err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return ParseConfigText(text, path);
}

}  // namespace snap::cli
