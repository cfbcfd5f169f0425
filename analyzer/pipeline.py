"""dissect_frame: run the registered dissectors over one frame and build its full tree."""

from __future__ import annotations

from analyzer.context import FrameTimes, PacketContext, Preferences
from analyzer.cursor import ByteCursor, Truncated, generated
from analyzer.model import Dissection, Field, Layer, Severity
from analyzer.registry import Next, Protocol, Registry
from captures.frame import Frame

# A frame never has more layers than this; a loop in the bindings stops here.
MAX_LAYERS = 48
# Ethernet's minimum frame without FCS: shorter payloads are padded up to it.
ETHERNET_MIN_FRAME = 60

_default_registry: Registry | None = None


def default_registry() -> Registry:
    """The registry with every built-in dissector bound (built once, on first use)."""
    global _default_registry
    if _default_registry is None:
        from dissectors import build_registry

        _default_registry = build_registry()
    return _default_registry


def dissect_frame(
    frame: Frame,
    registry: Registry | None = None,
    *,
    times: FrameTimes | None = None,
    prefs: Preferences | None = None,
    strict: bool = False,
) -> Dissection:
    """The full tree of one frame. Never raises on input bytes.

    Running out of bytes becomes a Problem on the layer being read, with every field read
    so far kept. A bug in a dissector is contained the same way, unless `strict` (tests),
    where it is re-raised.
    """
    registry = registry if registry is not None else default_registry()
    ctx = PacketContext(frame=frame, prefs=prefs or Preferences(), times=times)
    dissection = Dissection(frame, prefs=ctx.prefs)
    data = frame.data
    # Packet comments come first: tshark shows them as their own tree before the Frame tree.
    first = "pkt_comment" if frame.comments else "frame"
    step = Next("frame", (first,), 0, max(frame.wire_len, len(data)))
    run_chain(dissection, data, step, ctx, registry, strict)
    _finish_frame_layer(dissection, ctx)
    return dissection


def dissect_reassembled(
    dissection: Dissection,
    name: str,
    data: bytes,
    step: Next,
    ctx: PacketContext,
    registry: Registry | None = None,
    strict: bool = False,
) -> list[Layer]:
    """Dissect bytes reassembled from several frames as part of this frame's tree.

    The bytes become a new data source of the dissection (Wireshark's "Reassembled TCP (N
    bytes)" tab), the layers found in them are appended with that source, and the frame's
    `frame.protocols` grows by their names. Never raises on input bytes.
    """
    registry = registry if registry is not None else default_registry()
    source = dissection.add_source(name, data)
    known = len(ctx.protocols)
    layers = run_chain(dissection, data, step, ctx, registry, strict, source)
    extend_protocols(dissection, ctx.protocols[known:])
    return layers


def run_chain(
    dissection: Dissection,
    data: bytes,
    step: Next | None,
    ctx: PacketContext,
    registry: Registry,
    strict: bool,
    source: int = 0,
) -> list[Layer]:
    """Dissect `data` from `step` on, layer after layer, appending to the dissection."""
    added: list[Layer] = []
    parent_layer: Layer | None = None
    parent_step: Next | None = None
    while step is not None and len(dissection.layers) < MAX_LAYERS:
        protocol = registry.resolve(step, data, ctx)
        if protocol is None:
            if step.offset >= min(step.end, len(data)):
                if parent_layer is not None and step.offset < step.end:
                    _report_uncaptured(parent_layer, step, len(data))
                break
            protocol = registry.protocols.get("data")
            if protocol is None:
                break
        layer = Layer(
            protocol.name,
            protocol.title,
            step.offset,
            max(step.end - step.offset, 0),
            depth=ctx.depth,
            short_name=protocol.short,
            source=source,
        )
        dissection.layers.append(layer)
        added.append(layer)
        ctx.protocols.append(protocol.name)
        following = _run(protocol, layer, ByteCursor(data, step.offset, step.end), ctx, strict)
        if following is not None and following.data is not None:
            # The next layers read bytes this layer derived: a new data source of the frame.
            for name, derived in following.steps_before:
                dissection.add_source(name, derived)
            data, source = following.data, dissection.add_source(following.source_name, following.data)
        elif following is not None:
            # A layer's range is its whole PDU: the header plus the payload it hands on.
            _cover(layer, following.end)
        if parent_layer is not None and parent_step is not None and parent_step.trailer:
            claimed_end = following.end if following is not None else layer.end
            _add_trailer(parent_layer, parent_step, claimed_end, data)
            _cover(parent_layer, min(parent_step.end, len(data)))
        if following is not None:
            _place_next(following, layer, ctx)
        parent_layer, parent_step, step = layer, following, following
    return added


def _place_next(following: Next, layer: Layer, ctx: PacketContext) -> None:
    """The tree depth of the layers that follow, as the step asks (see Next)."""
    if following.nested:
        ctx.depth = layer.depth + 1
        ctx.in_error = True
    elif following.inside:
        ctx.depth = layer.depth + 1
    elif following.at_root:
        ctx.depth = 0


def _run(
    protocol: Protocol, layer: Layer, cursor: ByteCursor, ctx: PacketContext, strict: bool
) -> Next | None:
    try:
        return protocol.dissect(cursor, layer, ctx)
    except Truncated as cut:
        if ctx.in_error and not cut.snapped and ctx.frame.cap_len >= ctx.frame.wire_len:
            # A packet quoted by an ICMP error may stop anywhere (RFC 792 asks for 8 bytes of
            # it): like Wireshark's ICMP, which ignores ReportedBoundsError there, keep what
            # was read and report nothing.
            return None
        # A read may start past the captured end; the Problem's range stays inside the frame.
        where = min(cut.offset, len(cursor.data))
        if cut.snapped:
            layer.problem(
                f"{protocol.name}.truncated",
                f"Packet size limited during capture: {protocol.short} truncated",
                Severity.WARNING,
                where,
                len(cursor.data) - where,
            )
        else:
            layer.problem(
                f"{protocol.name}.malformed",
                f"Malformed {protocol.short}: needed {cut.wanted} bytes at offset {cut.offset},"
                f" past the end of its data at {cursor.end}",
                Severity.ERROR,
                where,
                max(cursor.limit - where, 0),
            )
        return None
    except RecursionError:
        if strict:
            raise
        layer.problem(f"{protocol.name}.too_deep", "Nesting too deep to dissect", Severity.ERROR)
        return None
    except Exception as bug:  # a dissector bug must not take the whole capture down
        if strict:
            raise
        layer.problem(
            f"{protocol.name}.dissector_bug",
            f"Dissector failed: {type(bug).__name__}: {bug}",
            Severity.ERROR,
            min(layer.offset, len(cursor.data)),
            max(min(layer.end, len(cursor.data)) - layer.offset, 0),
        )
        return None


def _report_uncaptured(layer: Layer, step: Next, captured_end: int) -> None:
    """A payload handed on with none of its bytes captured: no layer will read it, so the
    layer that handed it on says the capture cut it (as data.truncated does for a partial one)."""
    missing = step.end - max(step.offset, captured_end)
    layer.problem(
        f"{layer.proto}.truncated",
        f"Packet size limited during capture: {missing} bytes of {layer.short_name or layer.proto}"
        " payload not captured",
        Severity.WARNING,
        captured_end,
        0,
    )


def _cover(layer: Layer, end: int) -> None:
    """Widen a layer's range to reach `end` (never narrows it)."""
    if end > layer.end:
        layer.length = end - layer.offset


def _add_trailer(parent: Layer, step: Next, claimed_end: int, data: bytes) -> None:
    """Record the bytes of the parent's payload that the child did not claim.

    For an Ethernet-style "<proto>.padding" trailer, tshark 4.0 calls the bytes up to the
    60-byte minimum frame "Padding" when they are all zeros, and the rest "<proto>.trailer".
    """
    end = min(step.end, len(data))
    if step.trailer is None or claimed_end >= end or claimed_end < step.offset:
        return
    if not step.trailer.endswith(".padding"):
        extra = data[claimed_end:end]
        parent.add(
            Field(step.trailer, f"Trailer: {extra.hex()}", extra, extra.hex(), claimed_end, len(extra))
        )
        return
    padding_end = min(max(claimed_end, ETHERNET_MIN_FRAME), end)
    padding = data[claimed_end:padding_end]
    if padding and padding.count(0) != len(padding):
        padding, padding_end = b"", claimed_end
    if padding:
        parent.add(
            Field(
                step.trailer, f"Padding: {padding.hex()}", padding, padding.hex(), claimed_end, len(padding)
            )
        )
    trailer = data[padding_end:end]
    if trailer:
        name = step.trailer.removesuffix(".padding") + ".trailer"
        parent.add(
            Field(name, f"Trailer: {trailer.hex()}", trailer, trailer.hex(), padding_end, len(trailer))
        )
        parent.problem(
            "eth.padding_bad",
            "Padding was assumed, and an undecoded trailer exists. Some of the trailer may have been"
            " consumed by padding."
            if padding
            else "Didn't find padding of zeros, and an undecoded trailer exists."
            " There may be padding of non-zeros.",
            Severity.NOTE,
            padding_end,
            len(trailer),
            group="Protocol",
        )


def _finish_frame_layer(dissection: Dissection, ctx: PacketContext) -> None:
    """Fill in frame.protocols now that every layer is known."""
    frame_layer = dissection.layer("frame")
    if frame_layer is None:
        return
    chain = ":".join(name for name in ctx.protocols if name not in ("frame", "pkt_comment"))
    for item in frame_layer.children:
        if item.name == "frame.protocols":
            item.value = chain
            item.show = chain
            item.label = f"[Protocols in frame: {chain}]"
            return
    generated(frame_layer, "frame.protocols", f"[Protocols in frame: {chain}]", chain)


def extend_protocols(dissection: Dissection, names: list[str]) -> None:
    """Append protocol names to the frame's `frame.protocols` (after a reassembly step)."""
    if not names:
        return
    for layer in dissection.layers:
        if layer.proto != "frame":
            continue
        for item in layer.children:
            if item.name == "frame.protocols":
                chain = ":".join(filter(None, [str(item.value), *names]))
                item.value = item.show = chain
                item.label = f"[Protocols in frame: {chain}]"
        return
