import re,sys
p='/work/wt-codes/assets/close-codes.toml'; s=open(p).read()
def rep(old,new,count=1):
    global s
    if s.count(old)!=count:
        sys.exit(f"expected {count} of {old[:70]!r}, found {s.count(old)}")
    s=s.replace(old,new)
# header doc
rep('''#   source          where the code is defined
''','''#   sources         where each claim comes from (RFC section, registry, hybi message, library)
''')
# 1002 when
rep('''fragmented or oversized control frame, an unknown opcode, or an invalid close code. \\
  tungstenite 0.30, the library under wsmon, also replaces a received close code it does not \\
  accept (0-999, 1004-1006, 1014, 1015, 1016-2999) with 1002 and the reason "Protocol \\
  violation"; behind a gateway that can hide a 1014."""''','''fragmented or oversized control frame, an unknown opcode, or an invalid close code. \\
  Some libraries also answer a valid code they do not know with 1002: tungstenite 0.30 \\
  answers 1014 that way. wsmon records the raw code the peer sent, so a 1002 in wsmon is a \\
  1002 that was on the wire."""''')
rep('''fermeture invalide. tungstenite 0.30, la bibliothèque utilisée par wsmon, remplace aussi un \\
  code de fermeture reçu qu'elle n'accepte pas (0-999, 1004-1006, 1014, 1015, 1016-2999) par \\
  1002 avec la raison « Protocol violation » ; derrière une passerelle, cela peut cacher un \\
  1014."""''','''fermeture invalide. Certaines bibliothèques répondent aussi par 1002 à un code valide \\
  qu'elles ne connaissent pas : c'est le cas de tungstenite 0.30 pour 1014. wsmon enregistre \\
  le code brut envoyé par le pair : un 1002 dans wsmon est donc bien un 1002 reçu."""''')
# 1001 send_when (item 6)
rep('''  Send 1001 when your endpoint itself is going away, for good or for a while: process \\
  shutdown, page unload, node drained."""''','''  Send 1001 when your endpoint itself is going away: process shutdown, page unload, node \\
  drained. If the server restarts and expects its clients back shortly, 1012 says so more \\
  precisely."""''')
rep('''  Envoyez 1001 quand votre extrémité elle-même s'en va, pour de bon ou pour un moment : arrêt \\
  du processus, fermeture de la page, nœud vidé."""''','''  Envoyez 1001 quand votre extrémité elle-même s'arrête : arrêt du processus, fermeture de la \\
  page, nœud vidé. Si le serveur redémarre et attend le retour de ses clients sous peu, 1012 \\
  le dit plus précisément."""''')
rep('name = "Départ"','name = "Fermeture pour départ"')
# 1012 send_when consistent
rep('''  Send 1012 from a server that is about to restart and will take connections again shortly. \\
  If it is leaving for good, send 1001."""''','''  Send 1012 from a server that is about to restart and will take connections again shortly. \\
  For any other reason to leave (shutdown, scale-in, page unload), send 1001."""''')
rep('''  Envoyez 1012 depuis un serveur qui va redémarrer et acceptera de nouveau des connexions \\
  sous peu. S'il part pour de bon, envoyez 1001."""''','''  Envoyez 1012 depuis un serveur qui va redémarrer et acceptera de nouveau des connexions \\
  sous peu. Pour tout autre départ (arrêt, réduction du nombre d'instances, fermeture de \\
  page), envoyez 1001."""''')
rep('''  The service is coming back, but not instantly, and all its clients were dropped at once. \\
  The original proposal for 1012 asks clients to wait a random 5-30 s, so that the restarted \\
  server is not hit by every client in the same second."""''','''  The service is coming back, but not instantly, and all its clients were dropped at once. \\
  The proposal that registered 1012 (hybi list, cited by IANA) says a client may reconnect \\
  and, if it does, should wait a random 5-30 s, so that the restarted server is not hit by \\
  every client in the same second."""''')
rep('''  La proposition d'origine de 1012 demande aux clients d'attendre un délai aléatoire de 5 à \\
  30 s, pour que le serveur redémarré ne reçoive pas tous les clients à la même seconde."""''','''  La proposition qui a fait enregistrer 1012 (liste hybi, citée par l'IANA) dit qu'un client \\
  peut se reconnecter et qu'il doit alors attendre un délai aléatoire de 5 à 30 s, pour que \\
  le serveur redémarré ne reçoive pas tous les clients à la même seconde."""''')
# 1004 (item 5)
rep('''  Reserved by RFC 6455 with no meaning defined yet. It must not be sent."""''','''  Reserved by RFC 6455, with no meaning defined yet. The RFC says only "Reserved": unlike \\
  1005, 1006 and 1015 it carries no explicit ban, but no endpoint has a reason to send it."""''')
rep('''  Réservé par la RFC 6455, sans signification définie à ce jour. Il ne doit pas être envoyé."""''','''  Réservé par la RFC 6455, sans signification définie à ce jour. La RFC dit seulement \\
  « réservé » : contrairement à 1005, 1006 et 1015, aucune interdiction explicite, mais \\
  aucune extrémité n'a de raison de l'envoyer."""''')
rep('''  a custom server using it as an error number. Strict receivers treat it as a protocol error \\
  (tungstenite 0.30 reports 1002 instead)."""''','''  a custom server using it as an error number. Receivers that check codes treat it as a \\
  protocol error (tungstenite 0.30 answers it with 1002). wsmon records the raw 1004."""''')
rep('''  récepteurs stricts y voient une erreur de protocole (tungstenite 0.30 indique 1002 à la \\
  place)."""''','''  récepteurs qui vérifient les codes y voient une erreur de protocole (tungstenite 0.30 \\
  répond par 1002). wsmon enregistre le 1004 tel quel."""''')
rep('''  Faites utiliser un code défini à l'émetteur : 1000 pour une fin normale, 1008 pour un refus \\
  de règle, 1011 pour une erreur serveur, ou un code applicatif 4000-4999."""''','''  Corrigez l'émetteur pour qu'il envoie un code défini : 1000 pour une fin normale, 1008 pour \\
  un refus lié aux règles, 1011 pour une erreur serveur, ou un code applicatif 4000-4999."""''')
rep('send_when = "Never: 1004 is reserved and has no meaning."','send_when = "Never: 1004 is reserved and has no meaning yet."')
rep('send_when = "Jamais : 1004 est réservé et n\'a pas de signification."','send_when = "Jamais : 1004 est réservé et n\'a pas encore de signification."')
# 1010 (item 7)
s=s.replace('''code = 1010
category = "protocol"''','''code = 1010
category = "negotiation"''')
rep('''  The client is ending the connection because the server did not accept an extension the \\
  client requires."""''','''  The client is ending the connection because the server did not negotiate one or more \\
  extensions the client expected in the handshake response."""''')
rep('''  Le client met fin à la connexion parce que le serveur n'a pas accepté une extension dont le \\
  client a besoin."""''','''  Le client met fin à la connexion parce que le serveur n'a pas négocié une ou plusieurs \\
  extensions que le client attendait dans la réponse à la poignée de main."""''')
rep('''  The client offered an extension it cannot work without (for example permessage-deflate) in \\
  Sec-WebSocket-Extensions, and the server's 101 response did not include it, often because''','''  The client offered one or more extensions it cannot work without (for example \\
  permessage-deflate) in Sec-WebSocket-Extensions, and the server's 101 response did not \\
  include them, often because''')
rep('''  Le client a proposé dans Sec-WebSocket-Extensions une extension indispensable (par exemple \\
  permessage-deflate) et la réponse 101 du serveur ne l'incluait pas, souvent parce que la''','''  Le client a proposé dans Sec-WebSocket-Extensions une ou plusieurs extensions \\
  indispensables (par exemple permessage-deflate) et la réponse 101 du serveur ne les \\
  reprenait pas, souvent parce que la''')
rep('''  La configuration du serveur décide de la réponse : chaque reconnexion reçoit la même et \\
  échoue de la même façon. Changez d'abord le serveur ou l'exigence."""''','''  C'est la configuration du serveur qui décide de la réponse : chaque reconnexion obtient la \\
  même réponse et échoue de la même façon. Changez d'abord le serveur ou l'exigence."""''')
rep('''  Seul un client envoie 1010, quand la réponse de la poignée de main n'a pas une extension \\
  dont il a besoin ; listez-les dans la raison. Un serveur qui ne peut pas satisfaire une \\
  exigence fait plutôt échouer la poignée de main."""''','''  Seul un client envoie 1010, quand il manque dans la réponse à la poignée de main une ou \\
  plusieurs extensions dont il a besoin ; indiquez-les dans la raison. Un serveur qui ne peut \\
  pas satisfaire une exigence fait plutôt échouer la poignée de main."""''')
rep('''  Only a client sends 1010, when the handshake response lacks an extension it requires; list \\
  them in the reason.''','''  Only a client sends 1010, when the handshake response lacks one or more extensions it \\
  requires; list them in the reason.''')
open(p,'w').write(s)
