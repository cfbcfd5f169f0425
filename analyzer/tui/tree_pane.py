"""The layer tree of the selected packet: Wireshark's labels, problems shown where tshark puts them.

Each node carries a `TreeItem` (the Field, Layer or Problem and the layer it belongs to), so the
hex pane can highlight its bytes in the right data source. Which subtrees are open is remembered
by key (a layer's protocol, a field's name) from one packet to the next, as Wireshark does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from analyzer.export.text import anchor_field
from analyzer.model import Dissection, Field, Layer, Problem, Severity
from analyzer.textsafe import escape_label

_SEVERITY_STYLES = {
    Severity.COMMENT: Style(color="#87afd7"),
    Severity.CHAT: Style(color="#87afd7"),
    Severity.NOTE: Style(color="#87d7af"),
    Severity.WARNING: Style(color="#ffaf00"),
    Severity.ERROR: Style(color="#ff5f5f", bold=True),
}
_GENERATED_STYLE = Style(dim=True)


@dataclass(frozen=True, slots=True, eq=False)
class TreeItem:
    """What a tree node shows: a layer, one of its fields, or one of its problems."""

    layer: Layer
    item: Field | Layer | Problem

    @property
    def offset(self) -> int:
        return self.item.offset

    @property
    def length(self) -> int:
        return self.item.length

    @property
    def key(self) -> str:
        """What identifies this subtree across packets, for keeping it open."""
        if isinstance(self.item, Layer):
            return f"layer:{self.item.proto}:{self.item.depth}"
        if isinstance(self.item, Field):
            return f"field:{self.item.name or self.item.label}"
        return f"problem:{self.item.code}"

    @property
    def label(self) -> str:
        """The node's line as shown (escaped)."""
        item = self.item
        if isinstance(item, Problem):
            return problem_label(item)
        return escape_label(item.label)

    @property
    def value(self) -> str:
        """The value as `tshark -T fields` shows it (escaped), for copying."""
        item = self.item
        if isinstance(item, Field):
            return escape_label(item.show)
        if isinstance(item, Layer):
            return escape_label(item.label)
        return escape_label(item.message)


def problem_label(problem: Problem) -> str:
    return f"[Expert Info ({problem.severity.label}/{problem.group}): {escape_label(problem.message)}]"


def _is_frame_level(layer: Layer, problem: Problem) -> bool:
    # tshark shows snaplen cuts, malformed packets and dissector bugs after all the layers.
    return problem.code in (f"{layer.proto}.truncated", f"{layer.proto}.malformed") or problem.code == (
        f"{layer.proto}.dissector_bug"
    )


class LayerTree(Tree[TreeItem]):
    """Expand with right/enter/space, collapse with left; e / E open or close everything."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("right,l", "open_node", "Expand", show=False),
        Binding("left,h", "close_node", "Collapse", show=False),
        Binding("e", "open_all", "Expand all", show=False),
        Binding("E", "close_all", "Collapse all", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(Text("packet"), id=id)
        self.show_root = False
        self.guide_depth = 2
        self.open_keys: set[str] = set()
        self.nodes_by_item: dict[int, TreeNode[TreeItem]] = {}
        self.dissection: Dissection | None = None

    def show(self, dissection: Dissection | None, note: str = "") -> None:
        """Replace the tree with this packet's; keep the cursor on the same kind of node."""
        keep = self.cursor_node.data.key if self.cursor_node is not None and self.cursor_node.data else None
        self.clear()
        self.nodes_by_item = {}
        self.dissection = dissection
        if dissection is None:
            return
        trailing: list[tuple[Layer, Problem]] = []
        for layer in dissection.layers:
            self._add_layer(layer, trailing)
        for layer, problem in trailing:
            label = Text(escape_label(f"[{problem.message}]"), _SEVERITY_STYLES[problem.severity])
            node = self.root.add_leaf(label, TreeItem(layer, problem))
            self.nodes_by_item[id(problem)] = node
        if note:
            self.root.add_leaf(Text(note, _GENERATED_STYLE))
        target = self._find_key(keep) if keep else None
        if target is not None:
            self.move_cursor(target)

    def _add_layer(self, layer: Layer, trailing: list[tuple[Layer, Problem]]) -> None:
        # A nested layer (the packet an ICMP error quotes) hangs under its parent's node.
        parent = self.root
        for node in reversed(self.root.children):
            data = node.data
            if (
                layer.depth
                and data is not None
                and isinstance(data.item, Layer)
                and data.item.depth < layer.depth
            ):
                parent = node
                break
        item = TreeItem(layer, layer)
        style = Style()
        worst = max((p.severity for p in layer.problems), default=None)
        if worst is not None and worst >= Severity.WARNING:
            style = _SEVERITY_STYLES[worst]
        node = parent.add(Text(escape_label(layer.label), style), item, expand=item.key in self.open_keys)
        self.nodes_by_item[id(layer)] = node
        experts: dict[int, list[Problem]] = {}
        loose: list[Problem] = []
        for problem in layer.problems:
            if _is_frame_level(layer, problem):
                trailing.append((layer, problem))
                continue
            anchor = anchor_field(layer, problem)
            if anchor is None:
                loose.append(problem)
            else:
                experts.setdefault(id(anchor), []).append(problem)
        for child in layer.children:
            self._add_field(node, layer, child, experts)
        for problem in loose:
            self._add_problem(node, layer, problem)
        node.allow_expand = bool(node.children)

    def _add_field(
        self, parent: TreeNode[TreeItem], layer: Layer, field: Field, experts: dict[int, list[Problem]]
    ) -> None:
        if field.hidden:
            for problem in experts.get(id(field), ()):
                self._add_problem(parent, layer, problem)
            return
        item = TreeItem(layer, field)
        style = _GENERATED_STYLE if field.generated else Style()
        found = experts.get(id(field), [])
        if found:
            style = _SEVERITY_STYLES[max(p.severity for p in found)]
        label = Text(escape_label(field.label), style)
        if field.children or found:
            node = parent.add(label, item, expand=item.key in self.open_keys)
            for child in field.children:
                self._add_field(node, layer, child, experts)
            for problem in found:
                self._add_problem(node, layer, problem)
        else:
            node = parent.add_leaf(label, item)
        self.nodes_by_item[id(field)] = node

    def _add_problem(self, parent: TreeNode[TreeItem], layer: Layer, problem: Problem) -> None:
        node = parent.add_leaf(
            Text(problem_label(problem), _SEVERITY_STYLES[problem.severity]), TreeItem(layer, problem)
        )
        self.nodes_by_item[id(problem)] = node

    def _find_key(self, key: str) -> TreeNode[TreeItem] | None:
        for node in self._visible_nodes():
            if node.data is not None and node.data.key == key:
                return node
        return None

    def _visible_nodes(self) -> list[TreeNode[TreeItem]]:
        found: list[TreeNode[TreeItem]] = []
        pending = list(reversed(self.root.children))
        while pending:
            node = pending.pop()
            found.append(node)
            if node.is_expanded:
                pending.extend(reversed(node.children))
        return found

    def reveal(self, item: Field | Layer | Problem) -> bool:
        """Open the subtrees above `item` and put the cursor on it."""
        node = self.nodes_by_item.get(id(item))
        if node is None:
            return False
        parent = node.parent
        while parent is not None and parent is not self.root:
            parent.expand()
            if parent.data is not None:
                self.open_keys.add(parent.data.key)
            parent = parent.parent
        self.call_after_refresh(self.move_cursor, node)
        return True

    # Remember what the user opens and closes, so the next packet shows the same subtrees.
    def on_tree_node_expanded(self, event: Tree.NodeExpanded[TreeItem]) -> None:
        if event.node.data is not None:
            self.open_keys.add(event.node.data.key)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[TreeItem]) -> None:
        if event.node.data is not None:
            self.open_keys.discard(event.node.data.key)

    def action_open_node(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.expand()

    def action_close_node(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_open_all(self) -> None:
        for node in self.root.children:
            node.expand_all()
        self._remember_all(True)

    def action_close_all(self) -> None:
        for node in self.root.children:
            node.collapse_all()
        self._remember_all(False)

    def _remember_all(self, opened: bool) -> None:
        pending = list(self.root.children)
        while pending:
            node = pending.pop()
            if node.data is not None and node.allow_expand:
                if opened:
                    self.open_keys.add(node.data.key)
                else:
                    self.open_keys.discard(node.data.key)
            pending.extend(node.children)
