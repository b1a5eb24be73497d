# The Buildfile instruction grammar. Input is one logical instruction line
# (continuations joined, heredoc bodies removed by the line pre-pass), already
# trimmed. Postprocessors only build CST nodes (src/parser/cst.ts) with their
# source positions; what each keyword means is decided in src/parser/node.ts
# and src/parser/toInstructions.ts.
#
# There are three start rules, each paired with a lexer start state:
#   instruction (lexer state `line`), jsonArray (`json`), words (`words`).

@preprocessor typescript
@{%
import { lexer } from '../../../grammar/lexer.ts';
import * as cst from '../cst.ts';
%}
@lexer lexer

# --- instruction: KEYWORD [--flag ...] [--] [arguments] ---------------------

instruction -> %keyword                     {% ([k]) => cst.line(k, [], null) %}
             | %keyword %blank afterKeyword {% ([k, , r]) => cst.line(k, r.flags, r.args) %}

afterKeyword -> %ws:? flagged {% ([, r]) => r %}

flagged -> %args                  {% ([a]) => ({ flags: [], args: a }) %}
         | flag                   {% ([f]) => ({ flags: [f], args: null }) %}
         | flag %ws flagged       {% ([f, , r]) => ({ flags: [f, ...r.flags], args: r.args }) %}
         | %endFlags              {% () => ({ flags: [], args: null }) %}
         | %endFlags %ws %args    {% ([, , a]) => ({ flags: [], args: a }) %}

flag -> %flagStart flagPiece:* {% ([s, ps]) => cst.joinTokens([s, ...ps]) %}

flagPiece -> %fchars {% id %} | %fesc {% id %} | %fescEnd {% id %} | %fquote {% id %}

# --- jsonArray: the exec form, strict JSON ------------------------------------

jsonArray -> _j elements _j {% ([, e]) => e %}

elements -> %lbrack _j %rbrack              {% () => [] %}
          | %lbrack _j elementList _j %rbrack {% ([, , e]) => e %}

elementList -> element                      {% ([e]) => [e] %}
             | elementList _j %comma _j element {% ([l, , , , e]) => l.concat([e]) %}

element -> %jstring {% ([t]) => cst.jsonString(t) %}
         | nonString {% ([t]) => cst.jsonOther(t) %}

nonString -> %jnumber {% id %} | %jliteral {% id %} | object {% id %} | array {% id %}

value -> %jstring {% id %} | nonString {% id %}

object -> %lbrace _j %rbrace {% id %}
        | %lbrace _j members _j %rbrace {% id %}

members -> member | members _j %comma _j member

member -> %jstring _j %colon _j value

array -> %lbrack _j %rbrack {% id %}
       | %lbrack _j values _j %rbrack {% id %}

values -> value | values _j %comma _j value

_j -> null | %jws

# --- words: ENV/LABEL/ARG word splitting, quotes and escapes kept -------------

words -> _w                 {% () => [] %}
       | _w wordList _w     {% ([, l]) => l %}

wordList -> word               {% ([w]) => [w] %}
          | wordList %ws word  {% ([l, , w]) => l.concat([w]) %}

word -> wordPiece:+ {% ([ps]) => cst.joinTokens(ps) %}

wordPiece -> %wchars {% id %} | %wesc {% id %} | %wescEnd {% id %} | %wsquote {% id %} | %wdquote {% id %}

_w -> null | %ws
