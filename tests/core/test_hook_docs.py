"""Meta-tests: every hook is documented, the generated reference is current, and every hook is tested."""
import importlib.util
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("gen_hook_reference", ROOT / "docs" / "gen_hook_reference.py")
gen = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gen)


def test_every_hook_has_a_docstring_saying_what_it_returns_or_receives():
    for fn in gen.hooks():
        doc = inspect.getdoc(fn) or ""
        assert len(doc) > 60, f"{fn.__name__} needs a real docstring"
        assert "Called" in doc or ":param" in doc or ":return" in doc, fn.__name__


def test_generated_reference_is_current():
    assert (ROOT / "docs" / "hooks.md").read_text() == gen.render(), \
        "docs/hooks.md is stale: run .venv/bin/python docs/gen_hook_reference.py"


def test_every_hook_is_exercised_by_a_test():
    sources = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != "test_hook_docs.py")
    for folder in ("examples", "plugins"):  # first-party plugins are exercised by their own tests
        sources += "\n".join(p.read_text() for p in (ROOT / folder).rglob("*.py"))
    missing = [fn.__name__ for fn in gen.hooks() if f"def {fn.__name__}(" not in sources]
    assert not missing, f"hooks without a test plugin implementing them: {missing}"


def test_writing_plugins_guide_links_the_reference():
    guide = (ROOT / "docs" / "writing-plugins.md").read_text()
    assert "hooks.md" in guide
