"""The book's search finds British and American spellings alike.

The book writes British English ("reparameterisation", "quantisation", "colour"); many
readers type American spellings ("reparameterization"). Sphinx's English search stems each
word with the Porter stemmer, which maps the two spellings to different stems, so a query
in one spelling missed pages written in the other. Here both the index (Python) and the
query (the JavaScript stemmer in ``language_data.js``) first rewrite a word to its American
spelling with the same few suffix rules (:func:`american`), then stem it as before.
"""
import re

from sphinx import search
from sphinx.search.en import SearchEnglish

# (pattern, replacement), applied in order to a lower-case word; the JavaScript below has
# the same rules. A prefix of at least three letters keeps short words ("rise", "four") as
# they are; an odd rewrite elsewhere only changes a stem the reader never sees.
RULES = (
    (r"^(\w{3,})is(ation|ations|e|es|ed|ing|er|ers)$", r"\1iz\2"),
    (r"^(\w{3,})ys(e|es|ed|ing|er|ers)$", r"\1yz\2"),
    (r"^(\w{2,})our(s|ed|ing|ful|ite|ites)?$", r"\1or\2"),
)
JS_RULES = ",\n".join(
    f"  [/{pattern}/, '{replacement.replace(chr(92), '$')}']" for pattern, replacement in RULES)
JS_STEMMER = SearchEnglish.js_stemmer_code + f"""
// British spellings searched as American ones (_ext/book_search.py, the same rules).
var BOOK_SPELLING = [
{JS_RULES}
];
var PorterStemmer = Stemmer;
Stemmer = function () {{
  var porter = new PorterStemmer();
  this.stemWord = function (word) {{
    for (var i = 0; i < BOOK_SPELLING.length; i++) {{
      word = word.replace(BOOK_SPELLING[i][0], BOOK_SPELLING[i][1]);
    }}
    return porter.stemWord(word);
  }};
}};
"""


def american(word: str) -> str:
    """``word`` (lower case) in American spelling: reparameterisation -> reparameterization."""
    for pattern, replacement in RULES:
        word = re.sub(pattern, replacement, word)
    return word


class BookEnglish(SearchEnglish):
    """English search with :func:`american` applied before the Porter stemmer."""

    js_stemmer_code = JS_STEMMER

    def stem(self, word: str) -> str:
        return super().stem(american(word.lower()))


def setup(app):
    search.languages["en"] = BookEnglish
    return {"parallel_read_safe": True, "parallel_write_safe": True}
