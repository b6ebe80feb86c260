"""Device drivers the kiosk and the counter server share (no Flask, no Kivy):

    escpos_printer   an ESC/POS receipt printer (USB, serial, network, file) that is asked
                     for its state (paper out, cover open, offline) before every print
"""
