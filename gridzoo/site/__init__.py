"""`gridzoo site`: a self-contained static site of the zoo and of sweep reports (opens from file://, no server,
no network; publish the folder as it is, e.g. on GitHub Pages)."""
