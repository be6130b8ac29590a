"""The build: plan → import → catalog → steps → switch → prune, into a new store each time.

`pipeline` runs it (anything that fails before the switch leaves the served store as it was);
`importing` names the importer of each source format; `context` is what steps are handed; `steps`
adapt the domain packages (label index, quality checks, mapping checks and coverage) to the build;
`catalog` describes every graph; `normalize` applies Skosify per source; `fetch` downloads the
sources; `summary` prints what a build did.
"""

from kll_graph.build.context import BuildContext, BuildResult
from kll_graph.build.pipeline import build, ensure_built

__all__ = ["BuildContext", "BuildResult", "build", "ensure_built"]
