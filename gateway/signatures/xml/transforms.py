"""Reference transforms of XMLDSig: what bytes a Reference digests.

Supported (everything else is refused as UNKNOWN_ALGORITHM, XPath and XSLT on purpose — they let a
signer choose what is "signed" in ways callers cannot see): enveloped-signature, c14n 1.0 and
exclusive c14n (with or without comments, exclusive with InclusiveNamespaces PrefixList) and the
SMEV 3 transform (``smev_transform``, reused as is).

A same-document reference (``URI=""`` or ``URI="#id"``) starts as a node set without comments
(XMLDSig 4.4.3.3), so canonicalisation of a node drops comments whatever the "WithComments" variant
says; octets re-parsed by a later transform keep them when the variant asks for them.

The enveloped-signature transform is done by taking the Signature element out of the (per-call)
tree while canonicalising and putting it back exactly, tail text included, so no copy of a large
document is made.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from lxml import etree

from gateway.signatures.errors import UnsupportedAlgorithm
from gateway.signatures.xml import uris
from gateway.signatures.xml.smev_transform import DEFAULT_FLAVOUR, Flavour, smev_transform
from gateway.wire.safexml import parse_xml

__all__ = ["Transform", "apply_transforms", "canonicalize"]

_C14N_VARIANTS = {
    uris.C14N: (False, False),
    uris.C14N_WITH_COMMENTS: (False, True),
    uris.EXC_C14N: (True, False),
    uris.EXC_C14N_WITH_COMMENTS: (True, True),
}


@dataclass(frozen=True, slots=True)
class Transform:
    """One ds:Transform: its algorithm and, for exclusive c14n, the InclusiveNamespaces PrefixList."""

    algorithm: str
    inclusive_prefixes: tuple[str, ...] | None = None


def canonicalize(
    node: etree._Element,
    algorithm: str,
    *,
    whole_document: bool = False,
    inclusive_prefixes: Sequence[str] | None = None,
    node_set: bool = True,
) -> bytes:
    """Canonical bytes of ``node``'s subtree (or of its whole document) with a c14n ``algorithm``.

    ``node_set``: the input is an XMLDSig node set from a same-document reference or SignedInfo
    (comments kept only by the WithComments variants when False)."""
    try:
        exclusive, comments = _C14N_VARIANTS[algorithm]
    except KeyError:
        raise UnsupportedAlgorithm(algorithm, "unsupported canonicalization method") from None
    target: etree._Element | etree._ElementTree = node.getroottree() if whole_document else node
    return etree.tostring(
        target,
        method="c14n",
        exclusive=exclusive,
        with_comments=comments and not node_set,
        inclusive_ns_prefixes=list(inclusive_prefixes) if exclusive and inclusive_prefixes else None,
    )


@contextmanager
def _without(signature: etree._Element) -> Iterator[None]:
    """Take ``signature`` out of its tree for the duration, then restore it and the text around it."""
    parent = signature.getparent()
    if parent is None:
        yield
        return
    index = parent.index(signature)
    previous = signature.getprevious()
    tail = signature.tail
    saved_text = parent.text if previous is None else previous.tail
    # The Signature's tail is a sibling text node: it stays in the document.
    if tail:
        if previous is None:
            parent.text = (parent.text or "") + tail
        else:
            previous.tail = (previous.tail or "") + tail
    signature.tail = None
    parent.remove(signature)
    try:
        yield
    finally:
        parent.insert(index, signature)
        signature.tail = tail
        if previous is None:
            parent.text = saved_text
        else:
            previous.tail = saved_text


def _contains(ancestor: etree._Element, node: etree._Element) -> bool:
    return any(a is ancestor for a in node.iterancestors()) or ancestor is node


def apply_transforms(
    target: etree._Element,
    *,
    whole_document: bool,
    signature: etree._Element,
    transforms: Sequence[Transform],
    smev_flavour: Flavour = DEFAULT_FLAVOUR,
) -> bytes:
    """The octets a Reference to ``target`` digests after ``transforms`` (XMLDSig 4.4.3).

    ``whole_document`` is True for ``URI=""``. ``signature`` is the Signature element holding the
    Reference (removed by enveloped-signature). A node set left at the end is canonicalised with
    c14n 1.0, as the specification says."""
    node: etree._Element | None = target
    data = b""
    enveloped = False
    for index, transform in enumerate(transforms):
        algorithm = transform.algorithm
        if algorithm == uris.ENVELOPED:
            if node is None:
                raise UnsupportedAlgorithm(algorithm, "enveloped-signature after an octet transform")
            enveloped = True
        elif algorithm in _C14N_VARIANTS:
            if node is None:
                node = parse_xml(data)
                whole_document, enveloped = True, False
                data = _canon(node, algorithm, False, False, signature, transform.inclusive_prefixes, node_set=False)
            else:
                following = transforms[index + 1].algorithm if index + 1 < len(transforms) else None
                if (
                    algorithm == uris.EXC_C14N
                    and following == uris.SMEV_TRANSFORM
                    and not whole_document
                    and not (enveloped and _contains(node, signature))
                ):
                    # The SMEV transform gives, for an element, the bytes it gives for the element's
                    # exc-c14n form (smev_transform's contract): skip serialising and re-parsing.
                    data = smev_transform(node, flavour=smev_flavour)
                    node = None
                    # the SMEV step is done: consume it
                    return _rest(data, transforms[index + 2 :], signature, smev_flavour)
                data = _canon(node, algorithm, whole_document, enveloped, signature, transform.inclusive_prefixes)
            node = None
        elif algorithm == uris.SMEV_TRANSFORM:
            if node is not None:
                data = _canon(node, uris.C14N, whole_document, enveloped, signature, None)
                node = None
            data = smev_transform(data, flavour=smev_flavour)
        else:
            raise UnsupportedAlgorithm(algorithm, "unsupported reference transform")
    if node is not None:
        data = _canon(node, uris.C14N, whole_document, enveloped, signature, None)
    return data


def _rest(data: bytes, transforms: Sequence[Transform], signature: etree._Element, flavour: Flavour) -> bytes:
    """Continue an octet stream through the remaining transforms (rare: SMEV is normally last)."""
    if not transforms:
        return data
    root = parse_xml(data)
    return apply_transforms(root, whole_document=True, signature=signature, transforms=transforms, smev_flavour=flavour)


def _canon(
    node: etree._Element,
    algorithm: str,
    whole_document: bool,
    enveloped: bool,
    signature: etree._Element,
    prefixes: Sequence[str] | None,
    *,
    node_set: bool = True,
) -> bytes:
    scope = node.getroottree().getroot() if whole_document else node
    if enveloped and _contains(scope, signature):
        with _without(signature):
            return canonicalize(
                node, algorithm, whole_document=whole_document, inclusive_prefixes=prefixes, node_set=node_set
            )
    return canonicalize(node, algorithm, whole_document=whole_document, inclusive_prefixes=prefixes, node_set=node_set)
