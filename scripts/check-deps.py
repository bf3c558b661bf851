#!/usr/bin/env python3
"""Checks that every target declares exactly the modules it imports (Package.swift against the sources), and the
architecture's fixed rules: SpecLang and Planner import no C module, database or HTTP; the backend touches neither
the database nor HTTP; the HTTP API links no FFmpeg; only LibAV imports CFFmpeg; only RendcSettings reads
environment variables. Exits 1 with one line per problem."""
import json, os, re, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM = {"Foundation", "FoundationNetworking", "FoundationXML", "FoundationEssentials", "Glibc", "Darwin", "Musl",
          "Dispatch", "Testing", "XCTest", "Synchronization", "_Concurrency"}
IMPORT = re.compile(r"^(?:@[_A-Za-z]+(?:\([^)]*\))?\s+)*(?:(?:internal|package|public|private|fileprivate)\s+)?import\s+(?:(?:struct|class|enum|func|var|typealias|protocol)\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)
ENV_READ = re.compile(r"ProcessInfo\.processInfo\.environment|\bgetenv\(|\bsetenv\(")

manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], cwd=ROOT, check=True, capture_output=True, text=True).stdout)
targets = {t["name"]: t for t in manifest["targets"]}

def declared(target):
    names = set()
    for dep in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dep:
                names.add(dep[kind][0])
    return names

def source_dir(target):
    if target.get("path"):
        return os.path.join(ROOT, target["path"])
    return os.path.join(ROOT, "Tests" if target["type"] == "test" else "Sources", target["name"])

def imports(target):
    found = {}
    for base, _, files in os.walk(source_dir(target)):
        for name in files:
            if name.endswith(".swift"):
                path = os.path.join(base, name)
                text = open(path, encoding="utf-8").read()
                for module in IMPORT.findall(text):
                    found.setdefault(module, path)
    return found

def closure(name, seen=None):
    seen = set() if seen is None else seen
    for dep in declared(targets[name]):
        if dep in targets and dep not in seen:
            seen.add(dep)
            closure(dep, seen)
    return seen

problems = []
for name, target in sorted(targets.items()):
    if target["type"] == "system":
        continue
    deps = declared(target)
    used = imports(target)
    for module, path in sorted(used.items()):
        if module not in SYSTEM and module not in deps and module != name:
            problems.append(f"{name}: imports {module} ({os.path.relpath(path, ROOT)}) without declaring it")
    # C targets (RenderKernels) have no Swift imports to compare.
    has_swift = any(f.endswith(".swift") for _, _, fs in os.walk(source_dir(target)) for f in fs)
    if has_swift:
        for dep in sorted(deps - set(used)):
            problems.append(f"{name}: declares {dep} but never imports it")

forbidden = {
    "SpecLang": {"CFFmpeg", "CTextShaping", "RenderKernels", "LibAV", "JobQueue", "JobAPI", "PostgresNIO", "Hummingbird", "AsyncHTTPClient"},
    "Planner": {"CFFmpeg", "CTextShaping", "RenderKernels", "LibAV", "JobQueue", "JobAPI", "PostgresNIO", "Hummingbird", "AsyncHTTPClient"},
    "FilterGraphBackend": {"JobQueue", "JobAPI", "PostgresNIO", "Hummingbird", "AsyncHTTPClient", "ObjectStorage", "Webhooks"},
    "JobAPI": {"CFFmpeg", "LibAV", "FilterGraphBackend", "RenderPipeline", "RenderKernels"},
}
for name, banned in forbidden.items():
    reach = closure(name) | declared(targets[name])
    for module in sorted(reach & banned):
        problems.append(f"{name}: depends on {module}, which the architecture forbids")

for name, target in targets.items():
    if target["type"] in ("system", "test") or name == "LibAV":
        continue
    if "CFFmpeg" in declared(target):
        problems.append(f"{name}: only LibAV may depend on CFFmpeg")
    if name not in ("RendcSettings", "rendc") and not (target.get("path") or "").startswith("Tests"):
        for base, _, files in os.walk(source_dir(target)):
            for f in files:
                path = os.path.join(base, f)
                if f.endswith(".swift") and ENV_READ.search(open(path, encoding="utf-8").read()):
                    problems.append(f"{name}: reads the environment ({os.path.relpath(path, ROOT)}); settings belong to RendcSettings")

for line in problems:
    print(line)
if problems:
    sys.exit(1)
print(f"dependencies: {len([t for t in targets.values() if t['type'] != 'system'])} targets declare exactly what they import")
