"""The consumer's request modal: loading, the form, a notice, the confirmation; and its submission parser.

Pure like `views`: plain values in (`RequestDraft`, `Filed`), Block Kit out, no I/O, no clock.

How a submission is read back without the form. Slack sends `view.state.values[block_id][action_id]`
and nothing else the app can trust, so everything the parser needs is in those two ids:

- A question's block id is `fresh(QUESTION_BLOCK + <question id, encoded>, ...)`: the base names the
  question, the digest changes when what is shown changes (`ids.fresh`). An access duration is two
  blocks with the same base (amount and unit), told apart by their digests and action ids.
- The action id names how to read the answer: `PICK_INPUT` one option (DROPDOWN), `PICKS_INPUT` several
  (CHECKBOXES), `TEXT_INPUT` a short answer, `AMOUNT_INPUT` + `UNIT_INPUT` a duration. Past 100 options
  the select is external and its action id is `ids.QUESTION_OPTIONS_INPUT` (the options listener
  answers it); single or multiple then comes from the element type Slack reports in the state.
- Ids and option values are encoded (`encode_value`): `%`, `:`, `<`, `>`, `&` and control, bidi and
  lone surrogate characters become `%XX` / `%uXXXX`. So a question id may hold `:` (the separator of
  `fresh`), and no Marketplace string reaches the payload as `<!channel>` even where Slack does not
  display it. An encoded id longer than `ID_MAX`, a duplicate id, or an option whose encoded value is
  longer than Slack's 150 characters cannot be asked: the whole form is then "too large for Slack" and
  the modal links to the Marketplace's own request page, never showing part of a form. The options
  listeners must make values the same way: `question_options` and `column_options` do, and the product
  picker's listener must give `encode_value(product id)` (the parser decodes the product id).

Input blocks get ids fresh per block (not per modal, as in `views`): when the consumer switches product
or kind and the modal is redrawn, an input that is shown exactly as before keeps what was typed in it.

Only the form proper is made of input blocks. Where there is nothing to fill in (no form, a question
type the app cannot ask, a form too large, no masked column), the product and kind pickers sit in an
actions block and the modal has no submit button: a "Request" button that could only fail is worse
than none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from marketplace_slack.domain import AccessRequest, Duration, DurationUnit, RequestKind, RequestStatus
from marketplace_slack.domain.forms import (
    DURATION_AMOUNT_MAX,
    SHORT_ANSWER_MAX,
    Agreement,
    Answer,
    MaskedColumnChoice,
    ProductChoice,
    Question,
    QuestionType,
    RequestDraft,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.cards import approver_label
from marketplace_slack.slack.limits import (
    INPUT_HINT_MAX,
    INPUT_LABEL_MAX,
    MODAL_CLOSE_MAX,
    MODAL_SUBMIT_MAX,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    PLACEHOLDER_MAX,
    PRIVATE_METADATA_MAX,
    SECTION_TEXT_MAX,
    measure,
)
from marketplace_slack.slack.mrkdwn import (
    button,
    clean,
    clip,
    context_block,
    date,
    defang,
    escape,
    escape_line,
    escape_lines,
    header_block,
    one_line,
    person,
    plain,
    safe_url,
    section_block,
    sentence_text,
    tidy_lines,
)
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.consumer_ports import Filed
from marketplace_slack.workflow.sentences import Sentence

# Action ids of the question inputs. Nothing listens to them (only the parser reads them back), so
# they live here rather than in `ids`; `ids.QUESTION_OPTIONS_INPUT` is the one a listener answers.
PICK_INPUT: Final = "mp_q_pick"  # static_select: a DROPDOWN of at most 100 options
PICKS_INPUT: Final = "mp_q_picks"  # checkboxes (<= 10) or multi_static_select (<= 100): CHECKBOXES
TEXT_INPUT: Final = "mp_q_text"  # plain_text_input: SHORT_ANSWER
AMOUNT_INPUT: Final = "mp_q_amount"  # number_input: ACCESS_DURATION's amount
UNIT_INPUT: Final = "mp_q_unit"  # static_select: ACCESS_DURATION's unit
AGREED: Final = "agreed"  # the value of an agreement's one checkbox

TITLE: Final = "Request data access"
MODAL_BLOCKS_MAX: Final = 100
SELECT_OPTIONS_MAX: Final = 100  # static selects; past this, an external select searches
CHOICES_MAX: Final = 10  # checkboxes (and radio buttons)
OPTION_VALUE_MAX: Final = 150
OPTION_GROUP_LABEL_MAX: Final = 75
ID_MAX: Final = 200  # an encoded question or agreement id; with prefix and digest it stays under 255
DESCRIPTION_MAX: Final = 600  # the product's description under the pickers
DROPPED_MAX: Final = 1500  # the list of dropped answers
SENTENCE_MAX: Final = 2000

_KINDS: Final = (
    (RequestKind.DATA_ACCESS, "Data access"),
    (RequestKind.MASKING_EXCEPTION, "Masking exception"),
)
_ENCODE = re.compile("[%:<>&\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_DECODE = re.compile(r"%(?:u([0-9A-F]{4})|([0-9A-F]{2}))")
_PARAGRAPHS = re.compile(r"(\n\s*\n)")
_LINES = re.compile(r"(\n)")
_WORDS = re.compile(r"(\s+)")


class _Unaskable(Exception):
    """Raised while drawing a form Slack cannot carry whole; the modal then links to the Marketplace."""


# --- values and ids ---------------------------------------------------------------------------------


def encode_value(text: str) -> str:
    """`text` as an option value or an id part: reversible, with nothing Slack or `base_of` reads."""

    def one(m: re.Match[str]) -> str:
        cp = ord(m.group())
        return f"%{cp:02X}" if cp < 0x100 else f"%u{cp:04X}"

    return _ENCODE.sub(one, text)


def decode_value(value: str) -> str:
    """The text `encode_value` made `value` from."""
    return _DECODE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), value)


def question_id_of(block_id: str) -> str | None:
    """The question a block id (as Slack reports it, fresh or not) names; None for any other block.

    The options listener uses it: a block_suggestion carries the block id and `QUESTION_OPTIONS_INPUT`."""
    return _id_after(ids.QUESTION_BLOCK, block_id)


def agreement_id_of(block_id: str) -> str | None:
    return _id_after(ids.AGREEMENT_BLOCK, block_id)


def _id_after(prefix: str, block_id: str) -> str | None:
    base = ids.base_of(block_id)
    return decode_value(base[len(prefix) :]) if base.startswith(prefix) and len(base) > len(prefix) else None


def _base(prefix: str, raw_id: str) -> str:
    encoded = encode_value(raw_id)
    if not encoded or measure(encoded) > ID_MAX:
        raise _Unaskable(f"an id of {measure(encoded)} characters")
    return prefix + encoded


def _offerable(value: str) -> str | None:
    """The option value for `value`, or None when Slack cannot carry it (blank or too long)."""
    encoded = encode_value(value)
    if not encoded.strip() or measure(encoded) > OPTION_VALUE_MAX:
        return None
    return encoded


# --- text objects -------------------------------------------------------------------------------------


def _long_plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text label cut visibly with the long marker (how much is left out, and where to read it)."""
    return {"type": "plain_text", "text": defang(clip(text, limit, normalize=one_line)) or "…", "emoji": True}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def _sentence(sentence: Sentence) -> str:
    return sentence_text(sentence.text, sentence.mention, SENTENCE_MAX)


# --- modals -------------------------------------------------------------------------------------------


def request_loading_modal() -> dict[str, Any]:
    """What the click opens at once, while the form is read: nothing to fill in, Close only."""
    blocks = [section_block(_sentence(sentences.REQUEST_FORM_LOADING))]
    return _modal(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_submitting_modal() -> dict[str, Any]:
    """What a submitted form turns into at once (in the ack), while the request is filed."""
    blocks = [section_block(_sentence(sentences.REQUEST_SUBMITTING))]
    return _modal(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_notice_modal(text: str, *, url: str | None = None, mention: str | None = None) -> dict[str, Any]:
    """One sentence (plain words, escaped here; `mention` where it says MENTION) and an optional link."""
    blocks = [section_block(sentence_text(text, mention, SENTENCE_MAX), accessory=_link_button(url))]
    return _modal(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def request_filed_modal(filed: Filed) -> dict[str, Any]:
    """The confirmation: the request, its status, who reviews it, for whom, and where to follow it."""
    request = filed.request
    approved = request.status is RequestStatus.APPROVED
    lead = sentences.REQUEST_APPROVED_AT_ONCE if approved else sentences.REQUEST_FILED
    lines = [
        f"*Data product:* {escape_line(request.product_name, 300) or 'unknown'}",
        f"*Request:* {escape_line(request.id, 300) or 'unknown'}",
        f"*Status:* {_status(request)}",
    ]
    reviewers = _reviewers(request)
    if reviewers and not approved:
        lines.append(f"*Reviewed by:* {reviewers}")
    if filed.for_person is not None:
        lines.append(f"*For:* {person(filed.for_person)}")
    blocks = [section_block(_sentence(lead)), section_block("\n".join(lines))]
    marketplace = _link_button(filed.url)
    if marketplace is not None:
        blocks.append(section_block("Follow it in the Marketplace.", accessory=marketplace))
    card = _link_button(filed.card_url, "View the card")
    if card is not None:
        blocks.append(section_block("Stewards review it in Slack.", accessory=card))
    return _modal(ids.REQUEST_STATUS_MODAL, None, blocks, "", close="Close")


def _status(request: AccessRequest) -> str:
    if request.status is RequestStatus.APPROVED:
        if request.expiration is None:
            return "approved, with no expiration"
        return f"approved until {date(request.expiration)}"
    if request.status is RequestStatus.PENDING:
        return "waiting for review"
    return escape_line(request.raw_status.lower(), 50) or "unknown"


_STEPS_SHOWN: Final = 5
_APPROVERS_SHOWN: Final = 5


def _reviewers(request: AccessRequest) -> str:
    """Who reviews the open steps: `a or b` within a step (any one of them), `and` between steps."""
    steps = request.open_steps
    shown = []
    for step in steps[:_STEPS_SHOWN]:
        labels = [approver_label(a) for a in step.approvers[:_APPROVERS_SHOWN]]
        hidden = len(step.approvers) - len(labels)
        if labels:
            shown.append(" or ".join(labels) + (f" or {hidden} more" if hidden else ""))
    hidden_steps = len(steps) - min(len(steps), _STEPS_SHOWN)
    return " and ".join(shown) + (f" and {hidden_steps} more steps" if hidden_steps and shown else "")


def request_modal(draft: RequestDraft, *, context: str, allow_for_others: bool = True) -> dict[str, Any]:
    """The request form for `draft`, or why there is none (with a link to the Marketplace's request page).

    `context` becomes private_metadata (opaque, signed by the caller); over 3000 characters is a caller
    bug and raises ValueError. Never part of a form: if any of it cannot be shown, none of it is."""
    about = _about(draft.product) if draft.product is not None else []
    if draft.notice:
        about = [section_block(escape_lines(draft.notice, SENTENCE_MAX)), *about]
    reason = _why_not(draft)
    if reason is None:
        try:
            body = _form_blocks(draft, allow_for_others=allow_for_others)
            top = _pickers(draft, as_inputs=True)
        except _Unaskable:
            reason = sentences.REQUEST_FORM_TOO_LARGE
        else:
            blocks = [*top, *about, *body]
            if len(blocks) <= MODAL_BLOCKS_MAX:
                return _modal(ids.REQUEST_MODAL, "Request", blocks, context)
            reason = sentences.REQUEST_FORM_TOO_LARGE
    url = (draft.product.request_url or draft.product.url) if draft.product is not None else None
    notice = section_block(_sentence(reason), accessory=_link_button(url, "Request in Marketplace"))
    blocks = [*_pickers(draft, as_inputs=False), *about, notice]
    return _modal(ids.REQUEST_MODAL, None, blocks, context, close="Close")


def _why_not(draft: RequestDraft) -> Sentence | None:
    if draft.product is None:
        return sentences.REQUEST_PICK_PRODUCT
    if draft.form is None:
        return sentences.REQUEST_NO_FORM
    if draft.form.unsupported:
        return sentences.REQUEST_FORM_UNSUPPORTED
    if draft.kind is RequestKind.MASKING_EXCEPTION and not draft.columns:
        return sentences.REQUEST_NO_MASKED_COLUMNS
    return None


def _link_button(url: str | None, text: str = "Open in Marketplace") -> dict[str, Any] | None:
    safe = safe_url(url)
    return button(text, ids.OPEN_IN_MARKETPLACE, url=safe) if safe is not None else None


def _pickers(draft: RequestDraft, *, as_inputs: bool) -> list[dict[str, Any]]:
    """The product and kind pickers: input blocks on a form (so a change is dispatched and its state is
    submitted), one actions block otherwise (there is nothing to submit)."""
    product: dict[str, Any] = {
        "type": "external_select",
        "action_id": ids.REQUEST_PRODUCT_INPUT,
        "min_query_length": 0,
        "placeholder": plain("Search data products", PLACEHOLDER_MAX),
    }
    value = _offerable(draft.product.id) if draft.product is not None else None
    if draft.product is not None and value is not None:
        product["initial_option"] = _option(one_line(draft.product.name) or draft.product.id, value)
    elif as_inputs:
        raise _Unaskable("a product id Slack cannot carry")
    kind_options = [_option(label, kind.value) for kind, label in _KINDS]
    kind = {
        "type": "radio_buttons",
        "action_id": ids.REQUEST_KIND_INPUT,
        "options": kind_options,
        "initial_option": next(o for o in kind_options if o["value"] == draft.kind.value),
    }
    if not as_inputs:
        block_id = ids.fresh(ids.REQUEST_PRODUCT_BLOCK, product, kind)
        return [{"type": "actions", "block_id": block_id, "elements": [product, kind]}]
    return [
        _input(ids.REQUEST_PRODUCT_BLOCK, "Data product", product, dispatch=True),
        _input(ids.REQUEST_KIND_BLOCK, "Kind of request", kind, dispatch=True),
    ]


def _about(product: ProductChoice) -> list[dict[str, Any]]:
    """The product's domain and description, when it has them: escaped, cut visibly."""
    parts = []
    if product.domain:
        parts.append(f"Domain: {escape_line(product.domain, 300)}")
    if product.description:
        parts.append(escape_lines(product.description, DESCRIPTION_MAX))
    return [context_block("\n".join(parts))] if parts else []


def _form_blocks(draft: RequestDraft, *, allow_for_others: bool) -> list[dict[str, Any]]:
    form = draft.form
    assert form is not None  # _why_not
    blocks: list[dict[str, Any]] = []
    if allow_for_others:
        element = {
            "type": "users_select",
            "action_id": ids.REQUEST_FOR_INPUT,
            "placeholder": plain("Only if the access is for someone else", PLACEHOLDER_MAX),
        }
        blocks.append(_input(ids.REQUEST_FOR_BLOCK, "Request for someone else", element, optional=True))
    if draft.dropped:
        labels = ", ".join(one_line(label) for label in draft.dropped)
        blocks.append(
            context_block(
                f"{_sentence(sentences.REQUEST_ANSWERS_DROPPED)} {escape_line(labels, DROPPED_MAX)}"
            )
        )
    seen: set[str] = set()
    for question in form.questions:
        if question.id in seen:
            raise _Unaskable("two questions with one id")
        seen.add(question.id)
        blocks += _question_blocks(question, draft.answers.get(question.id))
        if len(blocks) > MODAL_BLOCKS_MAX:
            raise _Unaskable("too many blocks")  # stop early: a form of 10,000 questions costs no more
    seen.clear()
    for agreement in form.agreements:
        if agreement.id in seen:
            raise _Unaskable("two agreements with one id")
        seen.add(agreement.id)
        blocks += _agreement_blocks(agreement)
        if len(blocks) > MODAL_BLOCKS_MAX:
            raise _Unaskable("too many blocks")
    if draft.kind is RequestKind.MASKING_EXCEPTION:
        blocks += _columns_blocks(draft)
    return blocks


# --- questions ----------------------------------------------------------------------------------------


def _question_blocks(question: Question, answer: Answer | None) -> list[dict[str, Any]]:
    base = _base(ids.QUESTION_BLOCK, question.id)
    optional = not question.required
    if question.type is QuestionType.ACCESS_DURATION:
        return _duration_blocks(base, question, answer)
    if question.type is QuestionType.SHORT_ANSWER:
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": TEXT_INPUT,
            "multiline": True,
            "max_length": SHORT_ANSWER_MAX,
        }
        if isinstance(answer, str) and _prefillable(answer):
            element["initial_value"] = answer
    else:
        element = _choice_element(question, answer)
    label = _long_plain(question.label, INPUT_LABEL_MAX)
    return [_input(base, label, element, optional=optional, fresh_with=(question, answer))]


def _prefillable(answer: str) -> bool:
    """Whether an earlier short answer can be shown as typed. One too long is not cut into a shorter one
    the consumer did not write; one holding `<`, `>` or characters `clean` drops is not put in the
    payload (no payload carries `<!channel>` raw) nor changed to look-alikes they would then submit."""
    return (
        bool(answer)
        and measure(answer) <= SHORT_ANSWER_MAX
        and clean(answer) == answer
        and not (set(answer) & {"<", ">"})
    )


def _offered(options: Sequence[str]) -> list[dict[str, Any]]:
    """The form's options as Slack options, once each; blank ones are left out (nothing to answer)."""
    out: list[dict[str, Any]] = []
    values: set[str] = set()
    for option in options:
        if not option.strip():
            continue
        value = _offerable(option)
        if value is None:
            raise _Unaskable("an option value longer than Slack carries")
        if value not in values:
            values.add(value)
            out.append(_option(one_line(option) or option, value))
    if not out:
        raise _Unaskable("a choice with nothing to choose")
    return out


def _choice_element(question: Question, answer: Answer | None) -> dict[str, Any]:
    options = _offered(question.options)
    by_value = {o["value"]: o for o in options}
    chosen = [answer] if isinstance(answer, str) else list(answer) if isinstance(answer, tuple) else []
    initial = [by_value[v] for v in (_offerable(c) for c in chosen) if v is not None and v in by_value]
    placeholder = plain("Type to search" if len(options) > SELECT_OPTIONS_MAX else "Choose", PLACEHOLDER_MAX)
    if question.type is QuestionType.DROPDOWN:
        if len(options) > SELECT_OPTIONS_MAX:
            element = {
                "type": "external_select",
                "action_id": ids.QUESTION_OPTIONS_INPUT,
                "min_query_length": 0,
            }
        else:
            element = {"type": "static_select", "action_id": PICK_INPUT, "options": options}
        element["placeholder"] = placeholder
        if initial:
            element["initial_option"] = initial[0]
        return element
    if len(options) <= CHOICES_MAX:
        element = {"type": "checkboxes", "action_id": PICKS_INPUT, "options": options}
    elif len(options) <= SELECT_OPTIONS_MAX:
        element = {"type": "multi_static_select", "action_id": PICKS_INPUT, "options": options}
        element["placeholder"] = placeholder
    else:
        element = {
            "type": "multi_external_select",
            "action_id": ids.QUESTION_OPTIONS_INPUT,
            "min_query_length": 0,
        }
        element["placeholder"] = placeholder
    if initial:
        element["initial_options"] = initial
    return element


def _duration_blocks(base: str, question: Question, answer: Answer | None) -> list[dict[str, Any]]:
    optional = not question.required
    amount: dict[str, Any] = {
        "type": "number_input",
        "action_id": AMOUNT_INPUT,
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": str(DURATION_AMOUNT_MAX),
        "placeholder": plain("How many", PLACEHOLDER_MAX),
    }
    unit_value = DurationUnit.DAYS
    if isinstance(answer, Duration):
        unit_value = answer.unit
        if answer.amount <= DURATION_AMOUNT_MAX:
            amount["initial_value"] = str(answer.amount)
    units = [_option(u.value.capitalize(), u.value) for u in DurationUnit]
    unit = {
        "type": "static_select",
        "action_id": UNIT_INPUT,
        "options": units,
        "initial_option": next(o for o in units if o["value"] == unit_value.value),
    }
    hint = sentences.duration_at_most(question.maximum.describe()) if question.maximum else None
    label = _long_plain(question.label, INPUT_LABEL_MAX)
    unit_label = f"{clip(question.label, 200, normalize=one_line, label=True)} (unit)"
    return [
        _input(base, label, amount, optional=optional, hint=hint, fresh_with=("amount", question, answer)),
        _input(base, unit_label, unit, optional=optional, fresh_with=("unit", question, answer)),
    ]


def product_options(products: Sequence[ProductChoice]) -> list[dict[str, Any]]:
    """The product picker's options: one per product (at most 100), its name shown, its id encoded as
    the value the parser decodes; a product whose id Slack cannot carry is left out."""
    out: list[dict[str, Any]] = []
    values: set[str] = set()
    for product in products:
        value = _offerable(product.id)
        if value is None or value in values:
            continue
        values.add(value)
        out.append(_option(one_line(product.name) or product.id, value))
        if len(out) == SELECT_OPTIONS_MAX:
            break
    return out


def question_options(options: Sequence[str], query: str) -> list[dict[str, Any]]:
    """The options listener's answer for a question past 100 options: those containing `query` (any
    case), at most 100, once each; values as the form's modal offers them."""
    wanted = query.strip().casefold()
    out: list[dict[str, Any]] = []
    values: set[str] = set()
    for option in options:
        if wanted and wanted not in option.casefold():
            continue
        value = _offerable(option) if option.strip() else None
        if value is None or value in values:
            continue
        values.add(value)
        out.append(_option(one_line(option) or option, value))
        if len(out) == SELECT_OPTIONS_MAX:
            break
    return out


# --- agreements ---------------------------------------------------------------------------------------


def _agreement_blocks(agreement: Agreement) -> list[dict[str, Any]]:
    """Its name, its whole text (split across sections, never cut), and the box to tick."""
    base = _base(ids.AGREEMENT_BLOCK, agreement.id)
    name = one_line(agreement.name) or "this agreement"
    blocks = [header_block(name)]
    blocks += [section_block(escape(chunk)) for chunk in split_text(agreement.body, SECTION_TEXT_MAX)]
    tick = {
        "type": "checkboxes",
        "action_id": ids.AGREEMENT_INPUT,
        "options": [_option(f"I agree to {name}", AGREED)],
    }
    # The whole agreement in the digest: a box ticked for one text does not stay ticked for a changed one.
    blocks.append(_input(base, "Data use agreement", tick, fresh_with=agreement))
    return blocks


def _escaped_cost(text: str) -> int:
    # What `escape` can make of `text`, at most: entities cost more, look-alikes the same.
    return measure(text) + 4 * text.count("&") + 3 * (text.count("<") + text.count(">"))


def split_text(text: str, limit: int) -> list[str]:
    """`text` (line breaks kept, blank runs squeezed) in pieces whose escaped form fits `limit`, split at
    paragraphs, else lines, else words, else characters: nothing is left out."""
    tidy = tidy_lines(text)
    return [piece.strip() for piece in _pack(tidy, limit, (_PARAGRAPHS, _LINES, _WORDS)) if piece.strip()]


def _pack(text: str, limit: int, levels: tuple[re.Pattern[str], ...]) -> list[str]:
    if _escaped_cost(text) <= limit:
        return [text]
    if not levels:
        return _by_characters(text, limit)
    # The separators stay with the piece before them, so joining the pieces gives back the text.
    parts = levels[0].split(text)
    units = ["".join(parts[i : i + 2]) for i in range(0, len(parts), 2)]
    out: list[str] = []
    current = ""
    for unit in units:
        if _escaped_cost(current + unit) <= limit:
            current += unit
            continue
        if current:
            out.append(current)
            current = ""
        if _escaped_cost(unit) <= limit:
            current = unit
        else:
            out += _pack(unit, limit, levels[1:])
    if current:
        out.append(current)
    return out


def _by_characters(text: str, limit: int) -> list[str]:
    out, current, cost = [], "", 0
    for ch in text:
        c = _escaped_cost(ch)
        if cost + c > limit:
            out.append(current)
            current, cost = "", 0
        current += ch
        cost += c
    return [*out, current] if current else out


# --- masked columns -----------------------------------------------------------------------------------


def _columns_blocks(draft: RequestDraft) -> list[dict[str, Any]]:
    columns = _unique(draft.columns)
    for column in columns:
        if _offerable(column.key) is None:
            raise _Unaskable("a column Slack cannot carry")
    picked = set(draft.picked_columns)
    initial = _column_options([c for c in columns if c.key in picked])
    element: dict[str, Any]
    if len(columns) > SELECT_OPTIONS_MAX:
        element = {"type": "multi_external_select", "action_id": ids.COLUMNS_INPUT, "min_query_length": 0}
        placeholder = "Type to search the masked columns"
    else:
        element = {"type": "multi_static_select", "action_id": ids.COLUMNS_INPUT}
        element["option_groups"] = column_options(columns, "")
        placeholder = "Choose the columns to unmask"
    element["placeholder"] = plain(placeholder, PLACEHOLDER_MAX)
    if initial:
        element["initial_options"] = initial
    blocks = [
        _input(ids.COLUMNS_BLOCK, "Masked columns to unmask", element, fresh_with=(columns, sorted(picked)))
    ]
    if draft.columns_total > len(columns):
        blocks.append(context_block(escape(sentences.masked_columns_cut(len(columns), draft.columns_total))))
    return blocks


def _unique(columns: Sequence[MaskedColumnChoice]) -> list[MaskedColumnChoice]:
    seen: set[str] = set()
    out = []
    for column in columns:
        if column.key not in seen:
            seen.add(column.key)
            out.append(column)
    return out


def _column_options(columns: Sequence[MaskedColumnChoice]) -> list[dict[str, Any]]:
    out = []
    for column in columns:
        value = _offerable(column.key)
        if value is not None:
            out.append(_option(one_line(column.column) or column.column, value))
    return out


def column_options(columns: Sequence[MaskedColumnChoice], query: str) -> list[dict[str, Any]]:
    """Option groups (one per data source, in the order first seen) of the columns whose name or source
    contains `query` (any case): at most 100 columns, values `MaskedColumnChoice.key` encoded."""
    wanted = query.strip().casefold()
    groups: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    count = 0
    for column in _unique(columns):
        if wanted and wanted not in column.column.casefold() and wanted not in column.source_name.casefold():
            continue
        options = _column_options([column])
        if not options:
            continue
        label = one_line(column.source_name) or one_line(column.source_id) or "Data source"
        groups.setdefault(column.source_id, (label, []))[1].extend(options)
        count += 1
        if count == SELECT_OPTIONS_MAX:
            break
    return [
        {"label": plain(label, OPTION_GROUP_LABEL_MAX), "options": options}
        for label, options in groups.values()
    ]


# --- building blocks ----------------------------------------------------------------------------------


def _modal(
    callback_id: str,
    submit: str | None,
    blocks: list[dict[str, Any]],
    private_metadata: str,
    *,
    close: str = "Cancel",
) -> dict[str, Any]:
    if measure(private_metadata) > PRIVATE_METADATA_MAX:
        raise ValueError(f"private_metadata is {measure(private_metadata)} characters; Slack allows 3000")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(TITLE, MODAL_TITLE_MAX),
        "close": plain(close, MODAL_CLOSE_MAX),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }
    if submit is not None:
        view["submit"] = plain(submit, MODAL_SUBMIT_MAX)
    return view


def _input(
    base: str,
    label: str | dict[str, Any],
    element: dict[str, Any],
    *,
    optional: bool = False,
    dispatch: bool = False,
    hint: str | None = None,
    fresh_with: Any = None,
) -> dict[str, Any]:
    """An input block whose id is `base` plus a digest of what it shows (see the module's docstring)."""
    block: dict[str, Any] = {
        "type": "input",
        "block_id": ids.fresh(base, element, label, optional, hint, fresh_with),
        "label": plain(label, INPUT_LABEL_MAX) if isinstance(label, str) else label,
        "element": element,
        "optional": optional,
    }
    if dispatch:
        block["dispatch_action"] = True
    if hint:
        block["hint"] = plain(hint, INPUT_HINT_MAX)
    return block


# --- the submission -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestAnswers:
    """A request modal's submission as read from the view alone; the workflow checks it against the form."""

    answers: dict[str, Answer]  # by question id; unanswered questions are absent
    columns: tuple[tuple[str, str], ...]  # (source id, column)
    agreements: tuple[str, ...]  # ids of the agreements ticked
    for_user: str | None  # a Slack user id
    product_id: str | None
    kind: str | None  # a RequestKind value


def parse_request_submission(view: Mapping[str, Any]) -> RequestAnswers | dict[str, str]:
    """Read the request modal's `view.state.values` (or the whole view) into `RequestAnswers`.

    Checks only what the view alone can tell: a duration's amount (a whole number from 1 to
    DURATION_AMOUNT_MAX) and unit, each agreement ticked, a column picked. Otherwise returns
    `{block_id: sentence}` with the block ids as shown, ready for `views.errors_response`."""
    values = _state_values(view)
    answers: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    amounts: dict[str, tuple[str, str]] = {}  # question id -> (block id, raw amount)
    units: dict[str, tuple[str, str | None]] = {}  # question id -> (block id, unit)
    columns: list[tuple[str, str]] = []
    agreements: list[str] = []
    for_user = product_id = kind = None
    for block_id, actions in values.items():
        if not isinstance(block_id, str) or not isinstance(actions, Mapping):
            continue
        base = ids.base_of(block_id)
        if base == ids.REQUEST_PRODUCT_BLOCK:
            chosen = _selected(actions.get(ids.REQUEST_PRODUCT_INPUT))
            product_id = decode_value(chosen) if chosen is not None else None
        elif base == ids.REQUEST_KIND_BLOCK:
            chosen = _selected(actions.get(ids.REQUEST_KIND_INPUT))
            kind = chosen if chosen in RequestKind.__members__ else None
        elif base == ids.REQUEST_FOR_BLOCK:
            state = actions.get(ids.REQUEST_FOR_INPUT)
            user = state.get("selected_user") if isinstance(state, Mapping) else None
            for_user = user if isinstance(user, str) and user else None
        elif base == ids.COLUMNS_BLOCK:
            columns = _columns(actions.get(ids.COLUMNS_INPUT))
            if not columns:
                errors[block_id] = sentences.REQUEST_COLUMNS_NEEDED.text
        elif (agreement := agreement_id_of(block_id)) is not None:
            if AGREED in _selected_all(actions.get(ids.AGREEMENT_INPUT)):
                agreements.append(agreement)
            else:
                errors[block_id] = sentences.REQUEST_AGREEMENT_NEEDED.text
        elif (question := question_id_of(block_id)) is not None:
            if AMOUNT_INPUT in actions:
                amounts[question] = (block_id, _text(actions.get(AMOUNT_INPUT)))
            elif UNIT_INPUT in actions:
                units[question] = (block_id, _selected(actions.get(UNIT_INPUT)))
            else:
                answer = _answer(actions)
                if answer is not None:
                    answers[question] = answer
    for question, (block_id, raw) in amounts.items():
        duration = _duration(question, block_id, raw, units, errors)
        if duration is not None:
            answers[question] = duration
    if errors:
        return errors
    return RequestAnswers(
        answers=answers,
        columns=tuple(columns),
        agreements=tuple(agreements),
        for_user=for_user,
        product_id=product_id,
        kind=kind,
    )


def _duration(
    question: str,
    block_id: str,
    raw: str,
    units: Mapping[str, tuple[str, str | None]],
    errors: dict[str, str],
) -> Duration | None:
    raw = raw.strip()
    if not raw:
        return None  # unanswered: Slack itself holds a required question open
    # ASCII only: str.isdigit accepts "²", which int() rejects; the length cap keeps int() cheap.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 12 and 1 <= int(raw) <= DURATION_AMOUNT_MAX):
        errors[block_id] = sentences.REQUEST_DURATION_AMOUNT_INVALID.text
        return None
    unit_block, unit = units.get(question, (block_id, None))
    if unit is None or unit not in DurationUnit.__members__:
        errors[unit_block] = sentences.REQUEST_DURATION_UNIT_NEEDED.text
        return None
    return Duration(int(raw), DurationUnit(unit))


def _answer(actions: Mapping[str, Any]) -> Answer | None:
    if TEXT_INPUT in actions:
        text = _text(actions.get(TEXT_INPUT)).strip()
        return text or None
    if PICK_INPUT in actions:
        chosen = _selected(actions.get(PICK_INPUT))
        return decode_value(chosen) if chosen is not None else None
    if PICKS_INPUT in actions:
        return tuple(decode_value(v) for v in _selected_all(actions.get(PICKS_INPUT))) or None
    state = actions.get(ids.QUESTION_OPTIONS_INPUT)
    if not isinstance(state, Mapping):
        return None
    if state.get("type") == "multi_external_select" or "selected_options" in state:
        return tuple(decode_value(v) for v in _selected_all(state)) or None
    chosen = _selected(state)
    return decode_value(chosen) if chosen is not None else None


def _columns(state: Any) -> list[tuple[str, str]]:
    # A key is "<source id>/<column>": split at the first "/", as source ids are the Marketplace's own.
    out = []
    for value in _selected_all(state):
        source, slash, column = decode_value(value).partition("/")
        if slash and source and column:
            out.append((source, column))
    return out


def _state_values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state")
    if isinstance(state, Mapping) and isinstance(state.get("values"), Mapping):
        inner: Mapping[str, Any] = state["values"]
        return inner
    return view


def _text(state: Any) -> str:
    value = state.get("value") if isinstance(state, Mapping) else None
    return value if isinstance(value, str) else ""


def _selected(state: Any) -> str | None:
    option = state.get("selected_option") if isinstance(state, Mapping) else None
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


def _selected_all(state: Any) -> list[str]:
    options = state.get("selected_options") if isinstance(state, Mapping) else None
    if not isinstance(options, list):
        return []
    return [o["value"] for o in options if isinstance(o, Mapping) and isinstance(o.get("value"), str)]
