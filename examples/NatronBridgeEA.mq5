//+------------------------------------------------------------------+
//| NatronBridgeEA.mq5                                               |
//| Opens a streaming session on the natron TCP bridge with the bars |
//| the model needs, then sends each newly closed bar and shows the  |
//| prediction; with EnableTrading it also holds the position the    |
//| prediction calls for (long, short or flat). After a reconnect or |
//| an error it opens the session again with the full history.       |
//|                                                                  |
//| 1. natron bridge --model natron_v2.pt --port 9000                |
//|    --broker-time mt5 (your broker's clock; then ServerTimes=true:|
//|    the bridge converts every bar's time, across DST switches).   |
//| 2. MetaTrader 5: Tools > Options > Expert Advisors: add the      |
//|    bridge host (127.0.0.1) to the list of allowed addresses.     |
//| 3. Attach the EA to a chart of the timeframe the model knows.    |
//|                                                                  |
//| MT5's Strategy Tester does not run sockets: this EA works on a   |
//| live or demo chart only, not in a backtest.                      |
//+------------------------------------------------------------------+
#property copyright "natron developers"
#property version   "2.10"
#property description "Example client of the natron bridge (newline-delimited JSON over TCP)."

#include <Trade/Trade.mqh>

input string BridgeHost    = "127.0.0.1"; // natron bridge host
input int    BridgePort    = 9000;        // natron bridge port
input string BridgeToken   = "";          // token, if the bridge was started with --token
input int    HistoryBars   = 0;           // closed bars to open the session with; 0 = ask the bridge (required_history)
input string SessionId     = "";          // streaming session id; "" = symbol, timeframe and account (unique per terminal)
input double BuyThreshold  = 0.60;        // long when buy_prob >= this and > sell_prob
input double SellThreshold = 0.60;        // short when sell_prob >= this and > buy_prob
input bool   EnableTrading = false;       // false: only show the predictions
input double Lots          = 0.10;        // volume of a position
input ulong  MagicNumber   = 20240101;    // marks this EA's positions
input uint   TimeoutMs     = 5000;        // connect / request timeout
input bool   ServerTimes   = false;       // true: send bar times on the broker's clock, for a bridge started with --broker-time

int      g_socket   = INVALID_HANDLE;
int      g_bars     = 0;                  // closed bars the session is opened with
bool     g_opened   = false;              // the session is open on this connection
string   g_session  = "";                 // the session id
datetime g_last_bar = 0;                  // open time of the bar already handled
datetime g_last_sent = 0;                 // open time of the last closed bar the session has
uint     g_backoff  = 0;                  // seconds to wait after a failed connection (1, 2, 4 ... 60)
ulong    g_retry_at = 0;                  // GetTickCount64() before which no new connection is tried
CTrade   g_trade;

//--- one line out: the message and a newline, UTF-8
bool SendLine(const string text)
  {
   uchar data[];
   int n = StringToCharArray(text + "\n", data, 0, WHOLE_ARRAY, CP_UTF8) - 1; // without the terminating zero
   return n > 0 && SocketSend(g_socket, data, (uint)n) == n;
  }

//--- one line in: bytes up to the newline that ends the bridge's reply
bool ReadLine(string &line)
  {
   uchar buffer[];
   int   size  = 0;
   uint  start = GetTickCount();
   while(GetTickCount() - start < TimeoutMs)
     {
      uint readable = SocketIsReadable(g_socket);
      if(readable == 0)
        {
         if(!SocketIsConnected(g_socket))
            return false;
         Sleep(1);
         continue;
        }
      uchar chunk[];
      int got = SocketRead(g_socket, chunk, readable, TimeoutMs);
      if(got <= 0)
         return false;
      ArrayResize(buffer, size + got);
      ArrayCopy(buffer, chunk, size, 0, got);
      size += got;
      if(buffer[size - 1] == '\n')
        {
         line = CharArrayToString(buffer, 0, size - 1, CP_UTF8);
         return true;
        }
     }
   return false;
  }

//--- where the value of "key" starts in a JSON text (-1: absent); enough for the bridge's flat answers
int ValueStart(const string json, const string key)
  {
   string quoted = "\"" + key + "\"";
   int    len    = StringLen(json);
   int    from   = 0;
   while((from = StringFind(json, quoted, from)) >= 0)
     {
      int p = from + StringLen(quoted);
      while(p < len && StringGetCharacter(json, p) == ' ')
         p++;
      if(p < len && StringGetCharacter(json, p) == ':')
        {
         p++;
         while(p < len && StringGetCharacter(json, p) == ' ')
            p++;
         return p;
        }
      from = p;                           // "key" was a value, not a key: look further
     }
   return -1;
  }

double JsonNumber(const string json, const string key)
  {
   int p = ValueStart(json, key);
   if(p < 0)
      return EMPTY_VALUE;
   int e = p;
   while(e < StringLen(json) && StringFind(",}] ", StringSubstr(json, e, 1)) < 0)
      e++;
   return StringToDouble(StringSubstr(json, p, e - p));
  }

string JsonString(const string json, const string key)
  {
   int p = ValueStart(json, key);
   if(p < 0 || StringGetCharacter(json, p) != '"')
      return "";
   int e = StringFind(json, "\"", p + 1);
   return e < 0 ? "" : StringSubstr(json, p + 1, e - p - 1);
  }

//--- after a failure no connection is tried for 1, 2, 4 ... 60 s: a bridge that is down is not hammered, nor the terminal blocked
void Backoff(const string why)
  {
   g_backoff  = (uint)MathMin(60, MathMax(1, 2 * g_backoff));
   g_retry_at = GetTickCount64() + 1000 * (ulong)g_backoff;
   Print("natron: ", why, " (error ", GetLastError(), "): trying again in ", g_backoff, " s, opening the session again with the history");
   SocketClose(g_socket);
   g_socket = INVALID_HANDLE;
  }

//--- connect, and authenticate when the bridge has a token; after a failure, not again before the backoff has passed
bool Connect()
  {
   if(GetTickCount64() < g_retry_at)
      return false;
   g_socket = SocketCreate();
   if(g_socket == INVALID_HANDLE)
     {
      Print("natron: SocketCreate failed, error ", GetLastError());
      return false;
     }
   string reply = "";
   g_opened = false;                                            // a new connection opens the session again: bars may have been missed
   bool ok = SocketConnect(g_socket, BridgeHost, BridgePort, TimeoutMs);
   if(ok && BridgeToken != "")
      ok = SendLine("{\"type\":\"auth\",\"token\":\"" + BridgeToken + "\"}") && ReadLine(reply) && JsonString(reply, "type") == "auth_ok";
   if(!ok)
      Backoff("cannot connect to " + BridgeHost + ":" + IntegerToString(BridgePort) + " " + reply);
   return ok;
  }

//--- one request, one reply; on failure drop the connection (the next request reconnects)
bool Request(const string message, string &reply)
  {
   if(g_socket == INVALID_HANDLE && !Connect())
      return false;
   if(SendLine(message) && ReadLine(reply))
     {
      g_backoff = 0;                                            // the bridge answers: the next failure waits 1 s again
      return true;
     }
   Backoff("request failed");
   return false;
  }

//--- one bar as the bridge wants it: time in epoch seconds (UTC, or the broker's clock with ServerTimes), prices with the symbol's digits
string CandleJson(const MqlRates &rate)
  {
   long shift = 0;                                              // ServerTimes: the bridge converts each time (--broker-time)
   if(!ServerTimes)
     {
      shift = (long)(TimeTradeServer() - TimeGMT());            // broker server time minus UTC *now*: an hour off for bars
      shift = (long)MathRound(shift / 1800.0) * 1800;           // before a daylight-saving switch (to whole half hours)
     }
   return StringFormat("{\"time\":%I64d,\"open\":%s,\"high\":%s,\"low\":%s,\"close\":%s,\"volume\":%I64d}",
                       (long)rate.time - shift, DoubleToString(rate.open, _Digits), DoubleToString(rate.high, _Digits),
                       DoubleToString(rate.low, _Digits), DoubleToString(rate.close, _Digits), rate.tick_volume);
  }

//--- open (or re-open) the session with the bars, oldest first
string OpenMessage(const MqlRates &rates[], const int count)
  {
   string msg = "{\"type\":\"open\",\"session\":\"" + g_session + "\",\"candles\":[";
   for(int i = 0; i < count; i++)
      msg += (i > 0 ? "," : "") + CandleJson(rates[i]);
   return msg + "]}";
  }

//--- one closed bar for the session: the prediction comes back
string UpdateMessage(const MqlRates &rate)
  {
   return "{\"type\":\"update\",\"session\":\"" + g_session + "\",\"candle\":" + CandleJson(rate) + "}";
  }

//--- a session id the bridge accepts (letters, digits, _ - . :) from any symbol name
string SafeId(const string text)
  {
   string out = text;
   for(int i = 0; i < StringLen(out); i++)
     {
      ushort c = StringGetCharacter(out, i);
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == ':';
      if(!ok)
         StringSetCharacter(out, i, '_');
     }
   return StringSubstr(out, 0, 128);
  }

//--- Lots rounded down to the symbol's volume step, within its minimum and maximum (0: less than the minimum)
double Volume()
  {
   double step = SymbolInfoDouble(_Symbol, SYMBOL_VOLUME_STEP);
   double lots = MathMin(SymbolInfoDouble(_Symbol, SYMBOL_VOLUME_MAX), MathFloor(Lots / step + 1e-9) * step);
   return lots < SymbolInfoDouble(_Symbol, SYMBOL_VOLUME_MIN) ? 0 : NormalizeDouble(lots, 8);
  }

//--- whether the last trade request went through; if not, why
bool Traded(const bool sent, const string what)
  {
   uint code = g_trade.ResultRetcode();
   if(sent && (code == TRADE_RETCODE_DONE || code == TRADE_RETCODE_DONE_PARTIAL || code == TRADE_RETCODE_PLACED))
      return true;
   Print("natron: ", what, " failed: ", code, " ", g_trade.ResultRetcodeDescription());
   return false;
  }

//--- hold `target` (+1 long, -1 short, 0 flat) with this EA's positions on this symbol
void Rebalance(const int target)
  {
   int current = 0;
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      ulong ticket = PositionGetTicket(i);
      if(ticket == 0 || PositionGetString(POSITION_SYMBOL) != _Symbol || PositionGetInteger(POSITION_MAGIC) != (long)MagicNumber)
         continue;
      int side = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY ? 1 : -1;
      if(side != target)
        {
         if(!Traded(g_trade.PositionClose(ticket), "closing position " + IntegerToString((long)ticket)))
            return;                                             // not flat yet: no new position on top of it
        }
      else
         current = side;
     }
   double lots = Volume();
   if(target != 0 && current == 0 && lots <= 0)
      Print("natron: Lots ", Lots, " is below the symbol's minimum volume");
   else if(target > 0 && current == 0)
      Traded(g_trade.Buy(lots, _Symbol), "buy");
   else if(target < 0 && current == 0)
      Traded(g_trade.Sell(lots, _Symbol), "sell");
  }

int OnInit()
  {
   g_trade.SetExpertMagicNumber(MagicNumber);
   g_trade.SetTypeFillingBySymbol(_Symbol);                     // the filling mode the broker allows (fill-or-kill is often refused: 10030)
   if(!Connect())
      return INIT_FAILED;
   g_bars = HistoryBars;
   string reply;
   if(g_bars <= 0 && Request("{\"type\":\"info\"}", reply))
      g_bars = (int)JsonNumber(reply, "required_history");
   if(g_bars <= 0)
     {
      Print("natron: could not learn how many bars the model needs; set HistoryBars");
      return INIT_FAILED;
     }
   g_session = SafeId(SessionId != "" ? SessionId :
                      _Symbol + ":" + EnumToString(_Period) + ":" + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)));
   Print("natron: connected to ", BridgeHost, ":", BridgePort, ", session ", g_session, " opens with ", g_bars, " closed bars");
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   if(g_socket != INVALID_HANDLE)
      SocketClose(g_socket);
   Comment("");
  }

//--- open the session with the last g_bars closed bars; false (and why, printed) if it did not open
bool OpenSession()
  {
   MqlRates rates[];
   int got = CopyRates(_Symbol, _Period, 1, g_bars, rates);     // oldest first, the last closed bar last
   string reply;
   if(got < g_bars)
     {
      Print("natron: ", got, " closed bars available, the model needs ", g_bars);
      return false;
     }
   if(!Request(OpenMessage(rates, got), reply))
      return false;
   g_opened = JsonString(reply, "type") == "opened";
   if(!g_opened)
      Print("natron: ", JsonString(reply, "error"));
   g_last_sent = g_opened ? rates[got - 2].time : 0;            // the last bar is sent again: its answer is the prediction
   return g_opened;
  }

void OnTick()
  {
   datetime bar = iTime(_Symbol, _Period, 0);
   if(bar == g_last_bar)                                        // once per bar, on closed bars only
      return;
   if(g_socket == INVALID_HANDLE && !Connect())
      return;                                                   // tried again after the backoff
   if(!g_opened && !OpenSession())
     {
      if(g_socket != INVALID_HANDLE)
         g_last_bar = bar;                                      // refused: tried again at the next bar
      return;
     }
   if(iBarShift(_Symbol, _Period, g_last_sent) - 1 > g_bars && !OpenSession())
      return;                                                   // away too long: the history again rather than a gap
   MqlRates rates[];
   int missed = MathMax(1, iBarShift(_Symbol, _Period, g_last_sent) - 1); // closed bars the session lacks (bars missed while away too)
   if(CopyRates(_Symbol, _Period, 1, missed, rates) < missed)
      return;
   string reply    = "";
   bool   reopened = false;
   for(int i = 0; i < missed; i++)
     {
      if(!Request(UpdateMessage(rates[i]), reply))
         return;                                                // reconnects and opens the session again, after the backoff
      if(JsonString(reply, "type") == "prediction")
        {
         g_last_sent = rates[i].time;
         continue;
        }
      string error = JsonString(reply, "error");
      Print("natron: ", error);
      g_opened = false;
      if(reopened || StringFind(error, "unknown or expired") < 0 || !OpenSession())
        {
         g_last_bar = bar;                                      // tried again at the next bar
         return;
        }
      reopened = true;                                          // the session was lost (expired, a worker restarted): reopened now
      missed   = MathMax(1, iBarShift(_Symbol, _Period, g_last_sent) - 1);
      if(CopyRates(_Symbol, _Period, 1, missed, rates) < missed)
         return;
      i = -1;
     }
   g_last_bar = bar;
   double buy  = JsonNumber(reply, "buy_prob");
   double sell = JsonNumber(reply, "sell_prob");
   bool   read = buy != EMPTY_VALUE && sell != EMPTY_VALUE;    // a reply without both is no signal: no trade
   int target  = !read ? 0 : (buy >= BuyThreshold && buy > sell) ? 1 : (sell >= SellThreshold && sell > buy) ? -1 : 0;
   Comment(StringFormat("natron %s  buy %.3f  sell %.3f  direction %s (%.2f)  regime %s  ->  %s",
                        TimeToString(rates[missed - 1].time), read ? buy : 0, read ? sell : 0, JsonString(reply, "direction"),
                        JsonNumber(reply, "confidence"), JsonString(reply, "regime"), target > 0 ? "LONG" : target < 0 ? "SHORT" : "FLAT"));
   if(EnableTrading && read)
      Rebalance(target);
  }
//+------------------------------------------------------------------+
