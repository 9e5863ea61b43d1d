"""The font families every PDF names, and the Debian packages that install them.

Kept free of imports, so that ``coop.devstack`` can install the fonts before the virtual
environment's packages are needed.

DejaVu Sans draws the Latin, Greek and Cyrillic scripts; a character it lacks is drawn with the
first family after it that has it: Droid Sans Fallback (7 MB installed) for Chinese and
Japanese, WenQuanYi Micro Hei (5 MB installed) for Korean Hangul, which Droid Sans Fallback
lacks, and Symbola (an outline font, 3 MB installed) for emoji. WeasyPrint opens and embeds a
fallback font only in a document that shows one of its characters, so a document in Latin
script costs what it cost with DejaVu Sans alone. A colour emoji font is not named: where one
is, Pango draws the digits, "*" and "#" (characters that may start an emoji) with it.
"""

FONT_FAMILIES = ("DejaVu Sans", "Droid Sans Fallback", "WenQuanYi Micro Hei", "Symbola")
# The Debian package of each family, in the same order; the Dockerfile installs the same.
FONT_PACKAGES = (
    "fonts-dejavu-core",
    "fonts-droid-fallback",
    "fonts-wqy-microhei",
    "fonts-symbola",
)
FONT_STACK = ", ".join([*(f'"{family}"' for family in FONT_FAMILIES), "sans-serif"])
