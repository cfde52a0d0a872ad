#!/usr/bin/env python3
"""Where the wasm's bytes go: the size of every function body in the code section, summed by the
crate it comes from and by family (the framework, serde, the standard library, the bindings to
the browser, the app), read from the wasm's name section.

    python3 bench/wasm_weight.py target/front/wasm32-unknown-unknown/wasm-release/frontend.wasm

That file is cargo's output, before wasm-bindgen and wasm-opt (which drop the names): the
shares hold for the shipped file, the totals are larger. A generic function is counted under the
crate it is defined in, whichever crate made it (a `view!` in the app instantiates the framework's
code many times over: that shows under the framework). Python's standard library only.
"""
import collections
import re
import sys

FAMILIES = {
    "framework (Leptos)": {"reactive_graph", "tachys", "leptos", "leptos_router", "leptos_meta",
                           "leptos_dom", "leptos_server", "leptos_hot_reload", "server_fn",
                           "any_spawner", "throw_error", "or_poisoned", "guardian", "either_of",
                           "next_tuple", "oco_ref", "slotmap", "reactive_stores", "leptos_macro",
                           "hydration_context", "send_wrapper", "futures_util", "futures_channel",
                           "futures_executor", "futures_core", "pin_project_lite", "async_lock",
                           "event_listener", "concurrent_queue", "typed_builder", "drain_filter_polyfill",
                           "rustc_hash", "indexmap", "paste", "const_str_slice_concat"},
    "serde and friends (JSON, query strings)": {"serde", "serde_core", "serde_json", "serde_qs",
                                                "base64", "ryu", "itoa", "percent_encoding",
                                                "form_urlencoded", "url", "idna", "http", "zmij", "bytes"},
    "standard library": {"core", "alloc", "std", "___rust", "dlmalloc", "hashbrown", "compiler_builtins",
                         "memchr", "panic_abort", "smallvec"},
    "browser bindings": {"wasm_bindgen", "js_sys", "web_sys", "wasm_bindgen_futures", "gloo_net",
                         "gloo_utils", "console_error_panic_hook", "gloo_timers", "wasm_streams",
                         "__externref_table_alloc", "__externref_table_dealloc"},
    "the app": {"app", "frontend"},
}


class Wasm:
    def __init__(self, data):
        self.d = data

    def leb(self, i):
        value = shift = 0
        while True:
            byte = self.d[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, i

    def sections(self):
        if self.d[:4] != b"\0asm":
            sys.exit("not a wasm module")
        i = 8
        while i < len(self.d):
            sid = self.d[i]
            size, i = self.leb(i + 1)
            yield sid, i, i + size
            i += size

    def name(self, i):
        n, i = self.leb(i)
        return self.d[i:i + n].decode("utf-8", "replace"), i + n


def read(path):
    w = Wasm(open(path, "rb").read())
    imported_functions = 0
    bodies = []
    names = {}
    for sid, start, end in w.sections():
        if sid == 2:  # imports: imported functions come first in the index space
            count, i = w.leb(start)
            for _ in range(count):
                _, i = w.name(i)
                _, i = w.name(i)
                kind = w.d[i]
                i += 1
                if kind == 0:
                    _, i = w.leb(i)
                    imported_functions += 1
                elif kind == 1:  # table: element type, limits
                    flags = w.d[i + 1]
                    _, i = w.leb(i + 2)
                    if flags & 1:
                        _, i = w.leb(i)
                elif kind == 2:  # memory: limits
                    flags = w.d[i]
                    _, i = w.leb(i + 1)
                    if flags & 1:
                        _, i = w.leb(i)
                elif kind == 3:  # global: type, mutability
                    i += 2
                else:
                    _, i = w.leb(i)
        elif sid == 10:
            count, i = w.leb(start)
            for _ in range(count):
                size, body = w.leb(i)
                bodies.append(body - i + size)
                i = body + size
        elif sid == 0:
            custom, i = w.name(start)
            if custom != "name":
                continue
            while i < end:
                sub = w.d[i]
                size, i = w.leb(i + 1)
                if sub == 1:
                    count, j = w.leb(i)
                    for _ in range(count):
                        index, j = w.leb(j)
                        names[index], j = w.name(j)
                i += size
    functions = [(names.get(imported_functions + k, "?"), size) for k, size in enumerate(bodies)]
    # wasm-bindgen runs these at build time to learn the types, and removes them.
    return [(name, size) for name, size in functions if not name.startswith("__wbindgen_describe")]


def crate_of(name):
    """The crate a (mangled) function name belongs to: for `<T as Trait>::f` the trait's, for
    `<Type as Trait>::f` the type's."""
    if name.startswith("_R"):  # v0 mangling (the standard library): the first crate root
        m = re.search(r"Cs[0-9A-Za-z]+_(\d+)", name)
        if m:
            n = int(m.group(1))
            return name[m.end():m.end() + n]
        return "?"
    m = re.match(r"_ZN(\d+)", name)
    if not m:
        return name.split("::")[0] or "?"
    first = name[m.end():m.end() + int(m.group(1))]
    if not first.startswith("_$LT$"):
        return first
    inner = re.match(r"_\$LT\$(?:impl\$u20\$)?([a-z_][a-z_0-9]*)\.\.", first)
    if inner:
        return inner.group(1)
    trait = re.search(r"\$u20\$as\$u20\$([a-z_][a-z_0-9]*)\.\.", first)
    return trait.group(1) if trait else "?"


def main():
    functions = read(sys.argv[1])
    total = sum(size for _, size in functions)
    by_crate = collections.Counter()
    for name, size in functions:
        by_crate[crate_of(name)] += size
    by_family = collections.Counter()
    for crate, size in by_crate.items():
        family = next((f for f, members in FAMILIES.items() if crate in members), "other")
        by_family[family] += size
    print(f"{total} bytes of code in {len(functions)} functions")
    print("\nby family:")
    for family, size in by_family.most_common():
        print(f"  {size:9d} {100 * size / total:5.1f}%  {family}")
    print("\nby crate (the first 30):")
    for crate, size in by_crate.most_common(30):
        print(f"  {size:9d} {100 * size / total:5.1f}%  {crate}")


if __name__ == "__main__":
    main()
