"""The window's root: the screens, and two layers over them — «لطفاً صبر کنید» while a use
case runs, and the idle countdown «هنوز اینجا هستید؟». Every touch counts as activity."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, ObjectProperty
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager


class Layer(FloatLayout):
    """A layer over the screens: in the window only while `shown` (a hidden layer costs no
    drawing), and then it takes every touch."""

    shown = BooleanProperty(False)

    def on_shown(self, _layer: Any, shown: bool) -> None:
        host = getattr(self, "host", None)
        if host is None:
            return
        if shown and self.parent is None:
            host.add_widget(self)
        elif not shown and self.parent is not None:
            host.remove_widget(self)

    def on_touch_down(self, touch: Any) -> bool:
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        return True

    def on_touch_up(self, touch: Any) -> bool:
        super().on_touch_up(touch)
        return True


class KioskRoot(FloatLayout):
    state = ObjectProperty(None)
    watcher = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.manager = ScreenManager(transition=NoTransition())
        self.add_widget(self.manager, index=len(self.children))  # under the layers
        # kv ids are weak references; a hidden layer is out of the tree and needs a strong one.
        self.busy_layer = self.ids.busy_layer.__self__
        self.idle_layer = self.ids.idle_layer.__self__
        for layer in (self.busy_layer, self.idle_layer):
            layer.host = self
            if not layer.shown:
                self.remove_widget(layer)

    def on_touch_down(self, touch: Any) -> bool:
        if self.watcher is not None:
            asking = self.state.idle_left >= 0
            self.watcher.poke()
            if asking:
                return True  # the tap answered «هنوز اینجا هستید؟»; it does nothing else
        if self.state.busy:
            return True
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if self.state.busy:
            return True
        return bool(super().on_touch_up(touch))
