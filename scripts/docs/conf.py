# SPDX-License-Identifier: GPL-2.0
#
# Sphinx configuration for building only our documentation
# (Documentation/iommu/) against a kernel tree, without the kernel's
# full htmldocs. Used by scripts/docs.sh through "sphinx-build -c".
#
# The kernel tree is $KSRC if set, else <repo>/build/linux. The kernel-doc
# directives in our .rst files name files relative to that tree.

import os
import sys

_repo = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
ksrc = os.path.abspath(os.environ.get('KSRC') or
                       os.path.join(_repo, 'build', 'linux'))

# The kernel's own Sphinx extensions (kerneldoc.py and the kernellog.py it
# imports) live in Documentation/sphinx of the tree.
sys.path.insert(0, os.path.join(ksrc, 'Documentation', 'sphinx'))

project = 'Linux IOMMU MSI cookies'
author = 'The kernel development community'

# Sphinx >= 3 has a C domain that understands what kernel-doc emits, so
# the kernel's cdomain compatibility extension is not needed; our text
# uses explicit :c:func: roles, so neither is automarkup.
extensions = ['kerneldoc']

kerneldoc_bin = os.path.join(ksrc, 'scripts', 'kernel-doc')
kerneldoc_srctree = ksrc

master_doc = 'index'
root_doc = master_doc
source_suffix = '.rst'
exclude_patterns = ['_build']

primary_domain = 'c'
highlight_language = 'none'
# Keep "--" and quotes as written: the text is full of C and shell.
smartquotes = False

html_title = project
html_static_path = []
