#!/usr/bin/env python3
"""Deterministic data sets for bench/e2e.sh (standard library only).

  e2e_data.py tree DIR FILES SEED [BODIES]
                                          source-code-like tree: FILES text files of
                                          200 B - 20 KB (log-uniform), nested directories;
                                          with BODIES < FILES, file i reuses body i % BODIES
                                          under its own first line (cheaper to generate;
                                          every file still differs, so nothing dedups)
  e2e_data.py media DIR BYTES SEED       incompressible "media" files of 0.3 - 5 MiB
                                          adding up to about BYTES
  e2e_data.py dump V1 V2 BYTES SEED      a mysqldump-like SQL dump of about BYTES (V1) and
                                          the same dump with 1% of the rows changed in place
                                          (same length) plus a few inserted rows (V2)
  e2e_data.py change TREE MEDIA SAVE SEED
                                          changes 1% of the files under TREE and a few under
                                          MEDIA, first copying each original (with its times)
                                          to SAVE/tree/... and SAVE/media/..., so that
                                          `cp -a SAVE/tree/. TREE/` undoes it

The same arguments give the same bytes (file times aside). Prints a one-line summary.
"""
import os
import random
import re
import shutil
import sys

WORDS = """account action address admin allow amount append apply archive array assert
async attach backup balance batch before binary block buffer build bundle cache callback
cancel capture catalog change channel check chunk client close column commit config
connect consume context convert copy count create cursor customer data debug decode
default delete delta deploy detach digest dispatch document domain double dump element
emit encode engine entry error event export extend factory fetch field filter finish
flush format frame future gather handle header helper import index insert instance
invoice item iterate journal kernel label layout limit listen loader local logger lookup
manager mapper marker merge message method metric migrate module monitor mutate native
node notify number object offset option order output packet parent parse payload pending
pipeline plugin policy pool prepare price process product profile query queue reader
record reduce refresh region release remote render replica report request resolve
resource result retry route runner sample schema scope search select sender serial
server session settle shadow signal source stack state status storage stream string
subject submit supply switch symbol table target task template tenant thread token
trace tracker update upload user value vector version view volume watch window worker
writer""".split()

NAMES = """Anna Ben Carla David Elena Felix Greta Hugo Ines Jonas Klara Lukas Mia Noah Olga
Paul Rosa Simon Tara Uwe Vera Walter Yara Zoe Adam Berta Conrad Dora Emil Frieda""".split()
SURNAMES = """Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch
Richter Klein Wolf Neumann Schwarz Braun Zimmermann Hartmann Kruger Lange Werner Krause
Lehmann Kohler Maier Huber Kaiser Fuchs Peters Scholz Vogel Jung Keller Berger""".split()


def ident(rng):
    n = rng.randint(1, 3)
    return "_".join(rng.choice(WORDS) for _ in range(n))


def code_line(rng):
    """One line of C/Python/JS-looking code."""
    k = rng.random()
    ind = "    " * rng.randint(0, 3)
    if k < 0.15:
        return ind
    if k < 0.25:
        return f"{ind}// {' '.join(rng.choice(WORDS) for _ in range(rng.randint(3, 10)))}"
    if k < 0.45:
        return f"{ind}{ident(rng)} = {ident(rng)}({ident(rng)}, {rng.randint(0, 4096)});"
    if k < 0.60:
        return f"{ind}if ({ident(rng)} != {ident(rng)}) {{"
    if k < 0.70:
        return f"{ind}return {ident(rng)}.{ident(rng)}();"
    if k < 0.80:
        return f"{ind}}}"
    if k < 0.90:
        return f"{ind}def {ident(rng)}(self, {ident(rng)}, {ident(rng)}=None):"
    return f'{ind}log("{" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))}: %d", {ident(rng)});'


EXTS = [".c", ".h", ".py", ".js", ".ts", ".go", ".rs", ".java", ".md", ".txt"]


def make_body(rng, pool, size):
    """About `size` bytes of code: mostly lines seen elsewhere in the tree (as in
    real code), some fresh ones."""
    body = [f"#include \"{ident(rng)}.h\""] + rng.choices(pool, k=max(1, size) // 28 + 1)
    for _ in range(len(body) // 10):
        body[rng.randrange(1, len(body))] = code_line(rng)
    text = "\n".join(body)
    while len(text) < size:
        text += "\n" + rng.choice(pool)
    return text[:max(size, 40)] + "\n"


def gen_tree(root, nfiles, seed, nbodies):
    rng = random.Random(f"tree-{seed}")
    pool = [code_line(rng) for _ in range(100000)]
    # Directories: a 3-4 level hierarchy with about 30 files per leaf directory.
    ndirs = max(1, nfiles // 30)
    dirs = []
    for i in range(ndirs):
        depth = rng.randint(1, 4)
        parts = [f"{rng.choice(WORDS)}{rng.randint(0, 9)}" for _ in range(depth - 1)]
        parts.append(f"{rng.choice(WORDS)}_{i}")
        dirs.append(os.path.join(root, *parts))
    for d in dirs:
        os.makedirs(d, exist_ok=True)
    total = 0
    bodies = []
    for i in range(nfiles):
        header = f"/* {ident(rng)}.{i}: {' '.join(rng.choice(WORDS) for _ in range(8))} */\n"
        if i < nbodies:
            text = make_body(rng, pool, int(200 * (100 ** rng.random())) - len(header))
            if nbodies < nfiles:
                bodies.append(text)
        else:
            text = bodies[i % nbodies]
        text = (header + text).encode()
        path = os.path.join(dirs[i % ndirs], f"{ident(rng)}_{i}{rng.choice(EXTS)}")
        with open(path, "wb") as f:
            f.write(text)
        total += len(text)
    print(f"tree: {nfiles} files in {ndirs} leaf dirs, {total} bytes")


def gen_media(root, nbytes, seed):
    rng = random.Random(f"media-{seed}")
    os.makedirs(root, exist_ok=True)
    total = i = 0
    while total < nbytes:
        size = min(int(rng.uniform(0.3, 5.0) * 1048576), max(4096, nbytes - total))
        sub = os.path.join(root, f"{2020 + i % 6}", f"{1 + i % 12:02d}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"IMG_{i:05d}.{rng.choice(['jpg', 'mp4', 'png'])}"), "wb") as f:
            f.write(rng.randbytes(size))
        total += size
        i += 1
    print(f"media: {i} files, {total} bytes")


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


class DumpRows:
    """Row text for a few tables; changed() gives a same-length variant."""

    def __init__(self, rng):
        self.rng = rng
        self.sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14))).capitalize() + "."
                          for _ in range(5000)]

    def stamp(self):
        r = self.rng
        return f"{2019 + r.randint(0, 6)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d} " \
               f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"

    def product(self, i):
        r = self.rng
        name = f"{r.choice(WORDS).capitalize()} {r.choice(WORDS)} {r.randint(1, 999)}"
        desc = " ".join(r.choice(self.sentences) for _ in range(r.randint(1, 4)))
        price = f"{r.randint(1, 9999)}.{r.randint(0, 99):02d}"
        return (f"({i},{sql_str(f'SKU-{r.randint(0, 99999999):08d}')},{sql_str(name)},"
                f"{sql_str(desc)},{price},{r.randint(0, 5000)},{sql_str(self.stamp())},"
                f"{sql_str(self.stamp())})")

    def customer(self, i):
        r = self.rng
        first, last = r.choice(NAMES), r.choice(SURNAMES)
        mail = f"{first.lower()}.{last.lower()}{r.randint(1, 999)}@example.{r.choice(['com', 'org', 'de'])}"
        street = f"{r.choice(SURNAMES)}strasse {r.randint(1, 200)}"
        return (f"({i},{sql_str(first)},{sql_str(last)},{sql_str(mail)},{sql_str(street)},"
                f"{sql_str(f'{r.randint(10000, 99999)}')},{sql_str(r.choice(self.sentences))},"
                f"{sql_str(self.stamp())})")

    def order(self, i):
        r = self.rng
        return (f"({i},{r.randint(1, 10**6)},{sql_str(r.choice(['new', 'paid', 'sent', 'done']))},"
                f"{r.randint(1, 99999)}.{r.randint(0, 99):02d},{sql_str(self.stamp())},"
                f"{sql_str(r.choice(self.sentences) if r.random() < 0.3 else '')})")

    def changed(self, row):
        """The row with its last timestamp and one number replaced, same length."""
        last = list(STAMP.finditer(row))[-1]
        row2 = row[:last.start() + 1] + self.stamp() + row[last.end() - 1:]
        head, tail = row2[:last.start()], row2[last.start():]
        # Change a number in the middle of the row to another of the same width.
        comma = head.find(",", len(head) // 3)
        if comma > 0 and head[comma + 1:comma + 2].isdigit():
            j = comma + 1
            while j < len(head) and head[j].isdigit():
                j += 1
            width = j - comma - 1
            num = str(self.rng.randint(10 ** (width - 1) if width > 1 else 0, 10 ** width - 1))
            head = head[:comma + 1] + num + head[j:]
        out = head + tail
        assert len(out) == len(row)
        return out


TABLES = [
    ("products", "product", "  `id` int NOT NULL AUTO_INCREMENT,\n  `sku` varchar(16) NOT NULL,\n"
     "  `name` varchar(128) NOT NULL,\n  `description` text,\n  `price` decimal(10,2) NOT NULL,\n"
     "  `stock` int NOT NULL,\n  `created_at` datetime NOT NULL,\n  `updated_at` datetime NOT NULL,\n"
     "  PRIMARY KEY (`id`)", 0.45),
    ("customers", "customer", "  `id` int NOT NULL AUTO_INCREMENT,\n  `first_name` varchar(64),\n"
     "  `last_name` varchar(64),\n  `email` varchar(128),\n  `street` varchar(128),\n"
     "  `zip` varchar(8),\n  `note` text,\n  `updated_at` datetime NOT NULL,\n  PRIMARY KEY (`id`)", 0.25),
    ("orders", "order", "  `id` int NOT NULL AUTO_INCREMENT,\n  `customer_id` int NOT NULL,\n"
     "  `status` varchar(8) NOT NULL,\n  `total` decimal(10,2) NOT NULL,\n  `updated_at` datetime NOT NULL,\n"
     "  `comment` text,\n  PRIMARY KEY (`id`)", 0.30),
]

STAMP = re.compile(r"'\d{4}-\d\d-\d\d \d\d:\d\d:\d\d'")
LINE_BYTES = 1 << 20  # mysqldump --extended-insert cuts INSERT lines at about net_buffer_length


def gen_dump(path1, path2, nbytes, seed):
    rng = random.Random(f"dump-{seed}")
    rows = DumpRows(rng)
    header = ("-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n-- Host: localhost"
              "    Database: pim\n-- ------------------------------------------------------\n"
              "-- Server version\t8.0.36\n\n/*!40101 SET NAMES utf8mb4 */;\n"
              "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;\n\n")
    changed = inserted = nrows = 0
    with open(path1, "w") as f1, open(path2, "w") as f2:
        f1.write(header)
        f2.write(header)
        for table, kind, cols, share in TABLES:
            make = getattr(rows, kind)
            ddl = (f"--\n-- Table structure for table `{table}`\n--\n\nDROP TABLE IF EXISTS `{table}`;\n"
                   f"CREATE TABLE `{table}` (\n{cols}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n\n"
                   f"LOCK TABLES `{table}` WRITE;\n/*!40000 ALTER TABLE `{table}` DISABLE KEYS */;\n")
            f1.write(ddl)
            f2.write(ddl)
            budget = int(nbytes * share)
            written = 0
            i = 0
            while written < budget:
                prefix = f"INSERT INTO `{table}` VALUES "
                l1, l2, n = [], [], len(prefix)
                while n < LINE_BYTES and written + n < budget:
                    i += 1
                    row = make(i)
                    l1.append(row)
                    if rng.random() < 0.01:
                        l2.append(rows.changed(row))
                        changed += 1
                    else:
                        l2.append(row)
                    if rng.random() < 0.00002:  # a few rows only in v2
                        l2.append(make(10**8 + inserted))
                        inserted += 1
                    n += len(row) + 1
                    nrows += 1
                f1.write(prefix + ",".join(l1) + ";\n")
                f2.write(prefix + ",".join(l2) + ";\n")
                written += n
            tail = f"/*!40000 ALTER TABLE `{table}` ENABLE KEYS */;\nUNLOCK TABLES;\n\n"
            f1.write(tail)
            f2.write(tail)
        f1.write("-- Dump completed\n")
        f2.write("-- Dump completed\n")
    print(f"dump: {nrows} rows, {changed} changed in place, {inserted} inserted in v2; "
          f"{os.path.getsize(path1)} / {os.path.getsize(path2)} bytes")


def files_under(root):
    out = []
    for d, dirnames, names in os.walk(root):
        dirnames.sort()
        out.extend(os.path.join(d, n) for n in sorted(names))
    return out


def save(path, root, save_root):
    dst = os.path.join(save_root, os.path.relpath(path, root))
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copy2(path, dst)


def change(tree, media, save_root, seed):
    rng = random.Random(f"change-{seed}")
    files = files_under(tree)
    picked = rng.sample(files, max(1, len(files) // 100))
    for p in picked:  # an edit in the middle: a few lines replaced, some added
        save(p, tree, os.path.join(save_root, "tree"))
        with open(p, "rb") as f:
            data = f.read()
        at = rng.randint(0, len(data))
        edit = "".join(code_line(rng) + "\n" for _ in range(rng.randint(1, 6))).encode()
        with open(p, "wb") as f:
            f.write(data[:at] + edit + data[at + rng.randint(0, 200):])
    mfiles = files_under(media)
    mpicked = rng.sample(mfiles, max(1, min(len(mfiles), round(len(mfiles) / 60))))
    for p in mpicked:  # a re-encoded upload: new bytes, same name
        save(p, media, os.path.join(save_root, "media"))
        size = os.path.getsize(p)
        with open(p, "wb") as f:
            f.write(rng.randbytes(size))
    print(f"change: {len(picked)} of {len(files)} small files, {len(mpicked)} of {len(mfiles)} media files")


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "tree" and len(argv) == 5:
        gen_tree(argv[2], int(argv[3]), argv[4], int(argv[3]))
    elif cmd == "tree" and len(argv) == 6:
        gen_tree(argv[2], int(argv[3]), argv[4], min(int(argv[3]), int(argv[5])))
    elif cmd == "media" and len(argv) == 5:
        gen_media(argv[2], int(argv[3]), argv[4])
    elif cmd == "dump" and len(argv) == 6:
        gen_dump(argv[2], argv[3], int(argv[4]), argv[5])
    elif cmd == "change" and len(argv) == 6:
        change(argv[2], argv[3], argv[4], argv[5])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
