"""The Mini App dashboard's services: Telegram's launch data (`auth`), what each role sees
(`views`, `board`) and the charts drawn on the server (`charts`)."""
