import re,sys
p='/work/wt-codes/assets/close-codes.toml'; s=open(p).read()
def rep(old,new,count=1):
    global s
    if s.count(old)!=count:
        sys.exit(f"expected {count} of {old[:70]!r}, found {s.count(old)}")
    s=s.replace(old,new)
def field(code_marker, lang, name, new):
    """Replace field `name` in [entry.<lang>] of the entry starting at code_marker."""
    global s
    start=s.index(code_marker)
    sec=s.index(f"[entry.{lang}]",start)
    f=s.index(f"\n{name} = ",sec)+1
    if s[f+len(name)+3:].startswith('"""'):
        end=s.index('"""',f+len(name)+6)+3
    else:
        end=s.index('\n',f)
    s=s[:f]+f'{name} = """\\\n'+new+'"""'+s[end:]
def wrapt(t):
    import textwrap
    lines=textwrap.wrap(t,93)
    return " \\\n".join("  "+l for l in lines)
C13='\ncode = 1013\n'
field(C13,'en','description',wrapt("The server is terminating the connection due to a temporary condition, such as being overloaded. The client should reconnect after a back-off period."))
field(C13,'en','when',wrapt("The server is temporarily overloaded or throttling connections: too many connections, a per-client or per-tenant quota, a full queue. Unlike 1012, this does not indicate a restart: the server is running but cannot serve more clients right now. A server that accepts the upgrade and closes at once with 1013 is turning clients away at the door."))
field(C13,'en','fix',wrapt("Reconnect using exponential backoff (start at 1 second, double each attempt): wsmon's defaults are --backoff-base 1s and --backoff-cap 60s, with full jitter. Do not reset the backoff just because a connection opened, only once the session has stayed up for a while (wsmon: --stable-after, 10 s by default). If it persists, investigate server capacity, scale horizontally, or reduce the number of concurrent connections."))
field(C13,'en','retry_why',wrapt("The proposal that registered 1013 (hybi list, cited by IANA and by Spring's CloseStatus) tells clients to connect to a different IP when the name has several, or to reconnect to the same IP only upon user action. wsmon has no user to wait for, so it reconnects on its own, with exponential backoff and full jitter: the delays grow and spread out, so a fleet of clients does not come back to an overloaded server in the same second (AWS, \"Exponential Backoff And Jitter\")."))
field(C13,'en','send_when',wrapt("Send 1013 from a server that is running but cannot take this client for now (overload, quota, throttling). For a restart send 1012; for a shutdown or a maintenance window send 1001."))
field(C13,'fr','description',wrapt("Le serveur met fin à la connexion à cause d'une situation passagère, une surcharge par exemple. Le client doit se reconnecter après un délai d'attente croissant."))
field(C13,'fr','when',wrapt("Le serveur est momentanément surchargé ou limite le nombre de connexions : trop de clients, un quota par client ou par locataire, une file d'attente pleine. Contrairement à 1012, il ne s'agit pas d'un redémarrage : le serveur tourne, mais ne peut pas accepter davantage de clients pour l'instant. Un serveur qui accepte l'upgrade puis ferme aussitôt avec 1013 refoule les clients dès l'entrée."))
field(C13,'fr','fix',wrapt("Reconnectez-vous avec un délai exponentiel (commencer à 1 seconde, doubler à chaque tentative) : par défaut, wsmon utilise --backoff-base 1s et --backoff-cap 60s, avec une part aléatoire complète. Ne remettez pas ce délai à zéro dès qu'une connexion s'ouvre, seulement quand la session a tenu un moment (wsmon : --stable-after, 10 s par défaut). Si le problème persiste, examinez la capacité du serveur, passez à l'échelle horizontalement (plus d'instances) ou réduisez le nombre de connexions simultanées."))
field(C13,'fr','retry_why',wrapt("La proposition qui a fait enregistrer 1013 (liste hybi, citée par l'IANA et par CloseStatus de Spring) demande au client de se connecter à une autre adresse IP quand le nom en a plusieurs, ou de ne revenir sur la même adresse que sur action de l'utilisateur. wsmon n'a pas d'utilisateur à attendre : il se reconnecte donc seul, avec un délai exponentiel et entièrement aléatoire. Les délais s'allongent et se dispersent, si bien qu'un parc de clients ne revient pas à la même seconde sur un serveur déjà saturé (AWS, « Exponential Backoff And Jitter »)."))
field(C13,'fr','send_when',wrapt("Envoyez 1013 depuis un serveur qui tourne mais ne peut pas prendre ce client pour l'instant (surcharge, quota, limitation de débit). Pour un redémarrage, envoyez 1012 ; pour un arrêt ou une maintenance, envoyez 1001."))
C14='\ncode = 1014\n'
field(C14,'en','when',wrapt("A WebSocket gateway or proxy (API gateway, service mesh, broker front end) lost or could not reach its backend, or the backend answered something it could not use. wsmon records the raw 1014 the peer sent, with the server as initiator. Python websockets and Node ws accept 1014 too; tungstenite 0.30 does not know it and answers it with 1002, so the peer's logs may show a 1002 from a tungstenite client."))
field(C14,'fr','when',wrapt("Une passerelle ou un proxy WebSocket (passerelle d'API, maillage de services, frontal d'un courtier de messages) a perdu son serveur amont ou n'a pas pu le joindre, ou celui-ci a répondu quelque chose d'inutilisable. wsmon enregistre le 1014 brut envoyé par le pair, avec le serveur comme initiateur. Python websockets et Node ws acceptent aussi 1014 ; tungstenite 0.30 ne le connaît pas et y répond par 1002 : les journaux du pair peuvent donc montrer un 1002 venant d'un client tungstenite."))
C15='\ncode = 1015\n'
field(C15,'en','description',wrapt("The connection could not be set up because the TLS handshake failed. Libraries report 1015 for it; the value itself is never sent (RFC 6455 forbids it in a close frame)."))
field(C15,'en','when',wrapt("A wss:// connection failed before the WebSocket handshake. Two kinds: the certificate or TLS setup is refused (an expired or self-signed certificate, a certificate for another host name, a missing intermediate, an unknown authority, no TLS version or cipher in common), or the TLS handshake was cut off (a connection reset or a timeout in the middle of it). wsmon records the first kind as 1015; the second is recorded as an I/O error or a timeout. Browsers hide the details and show 1006."))
field(C15,'en','retry_why',wrapt("A refused certificate or TLS setup fails the same way on every attempt: wsmon stops until it is fixed. A reset or a timeout during the TLS handshake is a network problem that a retry can fix: wsmon reconnects with backoff (it records those as an I/O error or a timeout, not as 1015)."))
field(C15,'fr','description',wrapt("La connexion n'a pas pu s'établir parce que la négociation TLS a échoué. Les bibliothèques l'indiquent par 1015 ; la valeur elle-même n'est jamais envoyée (la RFC 6455 l'interdit dans une trame de fermeture)."))
field(C15,'fr','when',wrapt("Une connexion wss:// a échoué avant la poignée de main WebSocket. Deux cas : le certificat ou la configuration TLS est refusé (certificat expiré ou autosigné, émis pour un autre nom d'hôte, intermédiaire manquant, autorité inconnue, aucune version ni suite TLS commune), ou la négociation TLS a été interrompue (connexion réinitialisée ou délai dépassé en cours de route). wsmon enregistre le premier cas comme 1015, le second comme une erreur d'entrée-sortie ou un délai dépassé. Les navigateurs masquent les détails et affichent 1006."))
field(C15,'fr','retry_why',wrapt("Un certificat ou une configuration TLS refusés échouent de la même façon à chaque tentative : wsmon s'arrête jusqu'à la correction. Une réinitialisation ou un délai dépassé pendant la négociation TLS relève du réseau, et une nouvelle tentative peut réussir : wsmon se reconnecte alors avec un délai croissant (il les enregistre comme erreur d'entrée-sortie ou délai dépassé, pas comme 1015)."))
R3='\nrange = [3000, 3999]\n'
field(R3,'en','when',wrapt("A framework or library on the other side closed with a code from this range. The IANA registry lists, for each registered code, only a name and a contact: no meaning, no retry rule. Many codes of the range, like this one, are not registered at all. Browsers let scripts close only with 1000 or 3000-4999, so web apps sometimes use this range."))
field(R3,'en','fix',wrapt("Find out which library or framework the peer uses and read its documentation; the close reason often says more. The IANA registry gives at most a name and a contact to ask. Act on what you learn: if the code means \"do not come back\", tell wsmon with --no-retry-on."))
field(R3,'fr','when',wrapt("Un framework ou une bibliothèque de l'autre côté a fermé avec un code de cette plage. Pour chaque code enregistré, le registre de l'IANA ne donne qu'un nom et un contact : ni sens précis, ni règle de reconnexion. Beaucoup de codes de la plage, comme celui-ci, ne sont pas enregistrés du tout. Les navigateurs ne laissent les scripts fermer qu'avec 1000 ou 3000-4999 : des applications web utilisent donc parfois cette plage."))
field(R3,'fr','fix',wrapt("Identifiez la bibliothèque ou le framework du pair et lisez sa documentation ; la raison de fermeture en dit souvent plus. Le registre de l'IANA donne au mieux un nom et un contact à qui poser la question. Agissez selon ce que vous apprenez : si le code signifie « ne revenez pas », dites-le à wsmon avec --no-retry-on."))
for code,en,fr,http in [(3000,'Unauthorized','Unauthorized','401'),(3003,'Forbidden','Forbidden','403'),(3008,'Timeout','Timeout','408')]:
    M=f'\ncode = {code}\n'
    field(M,'en','description',wrapt(f"Registered at IANA under the name \"{en}\", with a contact and no other text. The name echoes HTTP {http}, but no specification gives it a meaning, and we found no implementation that relies on it; the library or server that sends it decides what it means."))
    field(M,'fr','description',wrapt(f"Enregistré à l'IANA sous le nom « {fr} », avec un contact et aucun autre texte. Le nom rappelle le HTTP {http}, mais aucune spécification ne lui donne de sens, et nous n'avons trouvé aucune implémentation qui s'appuie dessus : c'est la bibliothèque ou le serveur qui l'envoie qui en décide."))
# 4000 range French
rep('''  Le sens est privé à l'application et inconnu ici.''','''  Seule l'application connaît le sens de ce code ; wsmon l'ignore.''')
# 1006 French
rep("Des coupures à un âge fixe (60 s, 100 s, \\\n  1 h)","Des coupures toujours au bout de la même durée (60 s, \\\n  100 s, 1 h)")
open(p,'w').write(s)
