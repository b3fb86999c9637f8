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

from collections.abc import Sequence
from typing import Any, Final

from marketplace_slack.domain import Duration, DurationUnit, RequestKind
from marketplace_slack.domain.forms import (
    DURATION_AMOUNT_MAX,
    SHORT_ANSWER_MAX,
    Agreement,
    Answer,
    ProductChoice,
    Question,
    QuestionType,
    RequestDraft,
)
from marketplace_slack.slack import ids
from marketplace_slack.slack.limits import (
    INPUT_HINT_MAX,
    INPUT_LABEL_MAX,
    PLACEHOLDER_MAX,
    SECTION_TEXT_MAX,
    measure,
)
from marketplace_slack.slack.mrkdwn import (
    button,
    clean,
    clip,
    context_block,
    defang,
    escape,
    escape_line,
    escape_lines,
    header_block,
    one_line,
    plain,
    safe_url,
    section_block,
    sentence_text,
    split_text,
)
from marketplace_slack.slack.request_values import (
    AGREED,
    AMOUNT_INPUT,
    PICK_INPUT,
    PICKS_INPUT,
    SELECT_OPTIONS_MAX,
    TEXT_INPUT,
    UNIT_INPUT,
    as_option,
    column_option_list,
    column_options,
    encode_value,
    offerable,
    unique_columns,
)
from marketplace_slack.slack.views import modal
from marketplace_slack.workflow import sentences
from marketplace_slack.workflow.sentences import Sentence

TITLE: Final = "Request data access"
MODAL_BLOCKS_MAX: Final = 100
CHOICES_MAX: Final = 10  # checkboxes (and radio buttons)
ID_MAX: Final = 200  # an encoded question or agreement id; with prefix and digest it stays under 255
DESCRIPTION_MAX: Final = 600  # the product's description under the pickers
DROPPED_MAX: Final = 1500  # the list of dropped answers
SENTENCE_MAX: Final = 2000

_KINDS: Final = (
    (RequestKind.DATA_ACCESS, "Data access"),
    (RequestKind.MASKING_EXCEPTION, "Masking exception"),
)


class _Unaskable(Exception):
    """Raised while drawing a form Slack cannot carry whole; the modal then links to the Marketplace."""


# --- values and ids ---------------------------------------------------------------------------------


def _base(prefix: str, raw_id: str) -> str:
    encoded = encode_value(raw_id)
    if not encoded or measure(encoded) > ID_MAX:
        raise _Unaskable(f"an id of {measure(encoded)} characters")
    return prefix + encoded


# --- text objects -------------------------------------------------------------------------------------


def _long_plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text label cut visibly with the long marker (how much is left out, and where to read it)."""
    return {"type": "plain_text", "text": defang(clip(text, limit, normalize=one_line)) or "…", "emoji": True}


def sentence_line(sentence: Sentence) -> str:
    return sentence_text(sentence.text, sentence.mention, SENTENCE_MAX)


# --- modals -------------------------------------------------------------------------------------------


def request_modal(draft: RequestDraft, *, context: str, allow_for_others: bool = True) -> dict[str, Any]:
    """The request form for `draft`, or why there is none (with a link to the Marketplace's request page).

    `context` becomes private_metadata (opaque, signed by the caller); over 3000 characters is a caller
    bug and raises ValueError. Never part of a form: if any of it cannot be shown, none of it is."""
    about = _about(draft.product) if draft.product is not None else []
    if draft.standing:
        # Already asked, or already has access: said instead of a form, with the pickers kept, so
        # the other kind of request (or another product) is one choice away.
        url = draft.product.url if draft.product is not None else None
        said = [section_block(escape_lines(draft.standing, SENTENCE_MAX), accessory=link_button(url))]
        if draft.renewable:
            remind = button("Remind me when it ends", ids.REMIND_RENEWAL, value="remind")
            said.append({"type": "actions", "elements": [remind]})
        blocks = [*_pickers(draft, as_inputs=False), *said, *about]
        return modal_view(ids.REQUEST_MODAL, None, blocks, context, close="Close")
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
                return modal_view(ids.REQUEST_MODAL, "Request", blocks, context)
            reason = sentences.REQUEST_FORM_TOO_LARGE
    url = (draft.product.request_url or draft.product.url) if draft.product is not None else None
    notice = section_block(sentence_line(reason), accessory=link_button(url, "Request in Marketplace"))
    blocks = [*_pickers(draft, as_inputs=False), *about, notice]
    return modal_view(ids.REQUEST_MODAL, None, blocks, context, close="Close")


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


def link_button(url: str | None, text: str = "Open in Marketplace") -> dict[str, Any] | None:
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
    value = offerable(draft.product.id) if draft.product is not None else None
    if draft.product is not None and value is not None:
        product["initial_option"] = as_option(one_line(draft.product.name) or draft.product.id, value)
    elif as_inputs:
        raise _Unaskable("a product id Slack cannot carry")
    kind_options = [as_option(label, kind.value) for kind, label in _KINDS]
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
                f"{sentence_line(sentences.REQUEST_ANSWERS_DROPPED)} {escape_line(labels, DROPPED_MAX)}"
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
        value = offerable(option)
        if value is None:
            raise _Unaskable("an option value longer than Slack carries")
        if value not in values:
            values.add(value)
            out.append(as_option(one_line(option) or option, value))
    if not out:
        raise _Unaskable("a choice with nothing to choose")
    return out


def _choice_element(question: Question, answer: Answer | None) -> dict[str, Any]:
    options = _offered(question.options)
    by_value = {o["value"]: o for o in options}
    chosen = [answer] if isinstance(answer, str) else list(answer) if isinstance(answer, tuple) else []
    initial = [by_value[v] for v in (offerable(c) for c in chosen) if v is not None and v in by_value]
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
    units = [as_option(u.value.capitalize(), u.value) for u in DurationUnit]
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
        "options": [as_option(f"I agree to {name}", AGREED)],
    }
    # The whole agreement in the digest: a box ticked for one text does not stay ticked for a changed one.
    blocks.append(_input(base, "Data use agreement", tick, fresh_with=agreement))
    return blocks


# --- masked columns -----------------------------------------------------------------------------------


def _columns_blocks(draft: RequestDraft) -> list[dict[str, Any]]:
    columns = unique_columns(draft.columns)
    for column in columns:
        if offerable(column.key) is None:
            raise _Unaskable("a column Slack cannot carry")
    picked = set(draft.picked_columns)
    initial = column_option_list([c for c in columns if c.key in picked])
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


# --- building blocks ----------------------------------------------------------------------------------


def modal_view(
    callback_id: str,
    submit: str | None,
    blocks: list[dict[str, Any]],
    private_metadata: str,
    *,
    close: str = "Cancel",
) -> dict[str, Any]:
    # Its inputs' block ids are fresh per block already (see the module's docstring).
    return modal(callback_id, TITLE, submit, blocks, private_metadata, close=close)


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
