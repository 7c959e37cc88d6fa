// The dump and restore commands behind the presets of [dump.NAME] (see
// config_file.h).
//
// A dump streams into the chunker, so the presets ask for output that is the
// same from one night to the next wherever the data is: no timestamps
// (--skip-dump-date), no compression (--compress=0, no --gzip), which would
// make every byte after a change differ and defeat deduplication.
#include <initializer_list>
#include <string>
#include <string_view>

#include "tools/snapctl/config_file.h"

namespace snap::cli {
namespace {

// 'it'\''s' for it's: safe inside any POSIX shell word.
std::string ShellQuote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string_view Trim(std::string_view s) {
  const std::string_view kSpace = " \t\n\r";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(kSpace) - begin + 1);
}

// The non-empty parts joined by single spaces.
std::string Words(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    p = Trim(p);
    if (p.empty()) continue;
    if (!out.empty()) out += ' ';
    out += p;
  }
  return out;
}

std::string QuotedDatabase(const DumpConfig& d) {
  return d.database.empty() ? std::string() : ShellQuote(d.database);
}

}  // namespace

std::string PresetDumpCommand(const DumpConfig& d) {
  if (!d.command.empty() || d.kind == DumpKind::kCommand) return d.command;
  const std::string db = QuotedDatabase(d);
  switch (d.kind) {
    case DumpKind::kMysql:
      return Words(
          {"mysqldump --single-transaction --routines --triggers --events --hex-blob "
           "--skip-dump-date --default-character-set=utf8mb4",
           d.options, db.empty() ? "--all-databases" : db});
    case DumpKind::kPostgres:
      if (d.format == "custom")
        return Words({"pg_dump --format=custom --compress=0 --no-sync", d.options, db});
      return Words({"pg_dump --format=plain --no-sync", d.options, db});
    case DumpKind::kMongodb:
      return Words({"mongodump --archive", d.options, db.empty() ? "" : "--db=" + db});
    case DumpKind::kCommand:
      break;
  }
  return d.command;
}

std::string PresetRestoreCommand(const DumpConfig& d) {
  if (!d.restore.empty() || d.kind == DumpKind::kCommand) return d.restore;
  const std::string db = QuotedDatabase(d);
  switch (d.kind) {
    case DumpKind::kMysql:
      return Words({"mysql", d.options, db});
    case DumpKind::kPostgres:
      if (d.format == "custom")
        return Words({"pg_restore --exit-on-error", d.options, db.empty() ? "" : "-d " + db});
      return Words({"psql -v ON_ERROR_STOP=1 --quiet", d.options, db});
    case DumpKind::kMongodb:
      return Words({"mongorestore --archive", d.options});
    case DumpKind::kCommand:
      break;
  }
  return d.restore;
}

}  // namespace snap::cli
