// Tree encoding (FORMAT.md "Tree"). Decode treats its input as hostile: every
// count and length is bounded before anything is allocated for it, and a
// failure names the node and the field.
#include "engine/snapshot/tree.h"

#include <algorithm>
#include <string>
#include <unordered_set>

#include "engine/codec/varint.h"
#include "engine/snapshot/field_reader.h"

namespace snap::engine::snapshot {
namespace {

using codec::Encoder;

// Bounds on untrusted bytes; FORMAT.md "Tree" lists them.
constexpr size_t kMaxLinkTarget = 64u << 10;
constexpr size_t kMaxOwnerName = 256;
constexpr size_t kMaxXattrName = 255;  // XATTR_NAME_MAX
// listxattr returns at most XATTR_LIST_MAX (64 KiB) of NUL-terminated names,
// so capture can never see more than this many on one inode.
constexpr size_t kMaxXattrs = 32768;
// The shortest version-1 node, its length prefix included: a one-byte name
// and every other field at its one-byte minimum. Bounds the node count.
constexpr size_t kMinNodeBytes = 21;
constexpr uint32_t kMaxMode = 07777;
constexpr size_t kMaxContent = 1u << 24;  // a 16 TiB file in 1 MiB chunks
// A Node is ~13 times its smallest encoding, so a count is trusted for
// memory only up to this; past it, vectors grow as elements actually parse.
constexpr size_t kReserveLimit = 4096;
// Errors read "tree: node 12: ...".
constexpr const char* kNode = "tree: node";

// Why `name` cannot be an entry name, or nullptr when it can.
const char* NameProblem(std::string_view name) {
  if (name.empty()) return "name is empty";
  if (name == "." || name == "..") return "name is '.' or '..'";
  if (name.size() > kMaxNameLength) return "name is too long";
  if (name.find('/') != std::string_view::npos) return "name contains '/'";
  if (name.find('\0') != std::string_view::npos) return "name contains NUL";
  return nullptr;
}

// ---- encoding ----

void EncodeXattrs(const std::vector<Xattr>& xattrs, Encoder* e) {
  e->PutVarint(xattrs.size());
  for (const Xattr& x : xattrs) {
    e->PutString(x.name);
    e->PutString(x.value);
  }
}

void EncodeContent(const Node& n, Encoder* e) {
  e->PutVarint(n.content.size());
  for (const ChunkId& id : n.content) e->PutId(id);
  e->PutU8(n.subtree.has_value() ? 1 : 0);
  if (n.subtree) e->PutId(*n.subtree);
}

// The field order is the format: never reorder, only append.
void EncodeNodeBody(const Node& n, Encoder* e) {
  e->PutString(n.name);
  e->PutU8(static_cast<uint8_t>(n.type));
  e->PutVarint(n.mode);
  e->PutVarint(n.uid);
  e->PutVarint(n.gid);
  e->PutString(n.user);
  e->PutString(n.group);
  e->PutSignedVarint(n.mtime_ns);
  e->PutSignedVarint(n.atime_ns);
  e->PutVarint(n.size);
  e->PutVarint(n.rdev);
  e->PutVarint(n.inode);
  e->PutVarint(n.links);
  e->PutVarint(n.hardlink_group);
  e->PutVarint(n.flags);
  e->PutString(n.link_target);
  EncodeXattrs(n.xattrs, e);
  EncodeContent(n, e);
}

// ---- decoding ----

Status ParseName(FieldReader& r, std::string* name) {
  SNAP_RETURN_IF_ERROR(r.Str(name, kMaxNameLength, "name"));
  const char* problem = NameProblem(*name);
  return problem ? r.Error(problem) : Status::OK();
}

Status ParseType(FieldReader& r, NodeType* type) {
  uint8_t t = 0;
  SNAP_RETURN_IF_ERROR(r.U8(&t, "type"));
  if (t < static_cast<uint8_t>(NodeType::kFile) || t > static_cast<uint8_t>(NodeType::kSocket)) {
    return r.Error("unknown type " + std::to_string(t));
  }
  *type = static_cast<NodeType>(t);
  return Status::OK();
}

Status ParseOwnership(FieldReader& r, Node* n) {
  SNAP_RETURN_IF_ERROR(r.U32(&n->mode, "mode"));
  if (n->mode > kMaxMode) return r.Error("mode has bits outside 07777");
  SNAP_RETURN_IF_ERROR(r.U32(&n->uid, "uid"));
  SNAP_RETURN_IF_ERROR(r.U32(&n->gid, "gid"));
  SNAP_RETURN_IF_ERROR(r.Str(&n->user, kMaxOwnerName, "user"));
  return r.Str(&n->group, kMaxOwnerName, "group");
}

Status ParseStat(FieldReader& r, Node* n) {
  SNAP_RETURN_IF_ERROR(r.I64(&n->mtime_ns, "mtime"));
  SNAP_RETURN_IF_ERROR(r.I64(&n->atime_ns, "atime"));
  SNAP_RETURN_IF_ERROR(r.U64(&n->size, "size"));
  SNAP_RETURN_IF_ERROR(r.U64(&n->rdev, "rdev"));
  SNAP_RETURN_IF_ERROR(r.U64(&n->inode, "inode"));
  SNAP_RETURN_IF_ERROR(r.U64(&n->links, "links"));
  SNAP_RETURN_IF_ERROR(r.U64(&n->hardlink_group, "hardlink group"));
  // Unknown flag bits are kept: a newer writer's flags survive a rewrite.
  return r.U32(&n->flags, "flags");
}

Status ParseLinkTarget(FieldReader& r, std::string* target) {
  SNAP_RETURN_IF_ERROR(r.Str(target, kMaxLinkTarget, "link target"));
  if (target->find('\0') != std::string::npos) return r.Error("link target contains NUL");
  return Status::OK();
}

Status ParseXattr(FieldReader& r, const Xattr* prev, Xattr* x) {
  SNAP_RETURN_IF_ERROR(r.Str(&x->name, kMaxXattrName, "xattr name"));
  if (x->name.empty() || x->name.find('\0') != std::string::npos) {
    return r.Error("xattr name is empty or contains NUL");
  }
  if (prev && !(prev->name < x->name)) return r.Error("xattrs not sorted by name or duplicated");
  return r.Str(&x->value, kMaxXattrValue, "xattr value");
}

Status ParseXattrs(FieldReader& r, std::vector<Xattr>* xattrs) {
  size_t count = 0;
  SNAP_RETURN_IF_ERROR(r.Count(&count, kMaxXattrs, 2, "xattr count"));
  xattrs->reserve(std::min(count, kReserveLimit));
  for (size_t i = 0; i < count; ++i) {
    Xattr& x = xattrs->emplace_back();
    SNAP_RETURN_IF_ERROR(ParseXattr(r, i ? &(*xattrs)[i - 1] : nullptr, &x));
  }
  return Status::OK();
}

Status ParseContent(FieldReader& r, Node* n) {
  size_t count = 0;
  SNAP_RETURN_IF_ERROR(r.Count(&count, kMaxContent, ChunkId::kSize, "content count"));
  n->content.resize(count);
  for (ChunkId& id : n->content) SNAP_RETURN_IF_ERROR(r.Id(&id, "content"));
  bool has_subtree = false;
  SNAP_RETURN_IF_ERROR(r.Presence(&has_subtree, "subtree"));
  if (!has_subtree) return Status::OK();
  return r.Id(&n->subtree.emplace(), "subtree");
}

// Which fields a node of its type may carry.
Status CheckShape(const FieldReader& r, const Node& n) {
  bool dir = n.type == NodeType::kDir;
  if (dir && !n.subtree) return r.Error("directory without a subtree");
  if (!dir && n.subtree) return r.Error("non-directory with a subtree");
  if (n.type != NodeType::kFile && !n.content.empty()) return r.Error("non-file with content");
  bool symlink = n.type == NodeType::kSymlink;
  if (symlink && n.link_target.empty()) return r.Error("symlink without a target");
  if (!symlink && !n.link_target.empty()) return r.Error("non-symlink with a link target");
  return Status::OK();
}

// Bytes after the last field this version knows are a later revision's
// additions, and are skipped (FORMAT.md "Tree", forward compatibility).
Status ParseNode(ByteSpan body, size_t index, Node* n) {
  FieldReader r(body, kNode, index);
  SNAP_RETURN_IF_ERROR(ParseName(r, &n->name));
  SNAP_RETURN_IF_ERROR(ParseType(r, &n->type));
  SNAP_RETURN_IF_ERROR(ParseOwnership(r, n));
  SNAP_RETURN_IF_ERROR(ParseStat(r, n));
  SNAP_RETURN_IF_ERROR(ParseLinkTarget(r, &n->link_target));
  SNAP_RETURN_IF_ERROR(ParseXattrs(r, &n->xattrs));
  SNAP_RETURN_IF_ERROR(ParseContent(r, n));
  return CheckShape(r, *n);
}

Status ParseNodes(FieldReader& r, std::vector<Node>* nodes) {
  size_t count = 0;
  SNAP_RETURN_IF_ERROR(r.Count(&count, kMaxTreeEntries, kMinNodeBytes, "node count"));
  nodes->reserve(std::min(count, kReserveLimit));
  for (size_t i = 0; i < count; ++i) {
    ByteSpan body;
    if (!r.Bytes(&body, "node length").ok()) {
      return FieldError(kNode, i, "truncated or malformed length");
    }
    SNAP_RETURN_IF_ERROR(ParseNode(body, i, &nodes->emplace_back()));
    if (i > 0 && !((*nodes)[i - 1].name < (*nodes)[i].name)) {
      return FieldError(kNode, i, "name does not sort after the previous one's");
    }
  }
  return Status::OK();
}

}  // namespace

bool IsValidName(std::string_view name) { return NameProblem(name) == nullptr; }

void Tree::EncodeTo(Buffer* out) const {
  Encoder e(out);
  e.PutVarint(kTreeVersion);
  e.PutVarint(nodes.size());
  Buffer body;  // reused: one allocation for the whole tree
  for (const Node& n : nodes) {
    body.clear();
    Encoder be(&body);
    EncodeNodeBody(n, &be);
    e.PutBytes(body);
  }
}

Result<Tree> Tree::Decode(ByteSpan in) {
  FieldReader r(in, "tree");
  Tree t;
  SNAP_RETURN_IF_ERROR(r.Version(kTreeVersion));
  SNAP_RETURN_IF_ERROR(ParseNodes(r, &t.nodes));
  if (r.remaining() != 0) {
    return r.Error(std::to_string(r.remaining()) + " trailing bytes after the last node");
  }
  return t;
}

// std::string's operator< compares through char_traits<char>::lt, which the
// standard defines on unsigned char: the order is bytewise, as on disk.
void Tree::Sort() {
  std::sort(nodes.begin(), nodes.end(),
            [](const Node& a, const Node& b) { return a.name < b.name; });
}

std::vector<ChunkId> Tree::Refs() const {
  std::vector<ChunkId> refs;
  std::unordered_set<ChunkId, ChunkIdHash> seen;
  auto add = [&](const ChunkId& id) {
    if (seen.insert(id).second) refs.push_back(id);
  };
  for (const Node& n : nodes) {
    if (n.subtree) add(*n.subtree);
    for (const ChunkId& id : n.content) add(id);
  }
  return refs;
}

const Node* Tree::Find(std::string_view name) const {
  auto it = std::lower_bound(nodes.begin(), nodes.end(), name,
                             [](const Node& n, std::string_view key) { return n.name < key; });
  return it != nodes.end() && it->name == name ? &*it : nullptr;
}

}  // namespace snap::engine::snapshot
