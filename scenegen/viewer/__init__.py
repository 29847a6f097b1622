"""`scenegen view`: the web trajectory editor (viser) with the trained scene live."""
