"""Domain code shared by the counter server and the kiosk: no Flask, no Kivy."""
