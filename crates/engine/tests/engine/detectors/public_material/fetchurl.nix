  src = fetchurl { url = "https://example.test/x.tar.gz"; hash = "sha256-qCC4pslQNxeeuhR81SezSu0ifE+u/lp4baZrPfN0/sQ="; };
