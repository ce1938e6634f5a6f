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
//+------------------------------------------------------------------+
#property copyright "natron developers"
#property version   "2.00"
#property description "Example client of the natron bridge (newline-delimited JSON over TCP)."

#include <Trade/Trade.mqh>

input string BridgeHost    = "127.0.0.1"; // natron bridge host
input int    BridgePort    = 9000;        // natron bridge port
input string BridgeToken   = "";          // token, if the bridge was started with --token
input int    HistoryBars   = 0;           // closed bars to open the session with; 0 = ask the bridge (required_history)
input string SessionId     = "";          // streaming session id; "" = symbol and timeframe
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

//--- connect, and authenticate when the bridge has a token
bool Connect()
  {
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
     {
      Print("natron: cannot connect to ", BridgeHost, ":", BridgePort, " (error ", GetLastError(), ") ", reply);
      SocketClose(g_socket);
      g_socket = INVALID_HANDLE;
     }
   return ok;
  }

//--- one request, one reply; on failure drop the connection (the next request reconnects)
bool Request(const string message, string &reply)
  {
   if(g_socket == INVALID_HANDLE && !Connect())
      return false;
   if(SendLine(message) && ReadLine(reply))
      return true;
   Print("natron: request failed (error ", GetLastError(), "), reconnecting at the next bar");
   SocketClose(g_socket);
   g_socket = INVALID_HANDLE;
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
         g_trade.PositionClose(ticket);
      else
         current = side;
     }
   if(target > 0 && current == 0)
      g_trade.Buy(Lots, _Symbol);
   if(target < 0 && current == 0)
      g_trade.Sell(Lots, _Symbol);
  }

int OnInit()
  {
   g_trade.SetExpertMagicNumber(MagicNumber);
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
   g_session = SafeId(SessionId != "" ? SessionId : _Symbol + ":" + EnumToString(_Period));
   Print("natron: connected to ", BridgeHost, ":", BridgePort, ", session ", g_session, " opens with ", g_bars, " closed bars");
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   if(g_socket != INVALID_HANDLE)
      SocketClose(g_socket);
   Comment("");
  }

void OnTick()
  {
   datetime bar = iTime(_Symbol, _Period, 0);
   if(bar == g_last_bar)                                        // once per bar, on closed bars only
      return;
   if(g_socket == INVALID_HANDLE && !Connect())
      return;                                                   // retried at the next tick
   int need = g_opened ? 1 : g_bars;                            // the whole history to open the session, then one bar
   MqlRates rates[];
   int got = CopyRates(_Symbol, _Period, 1, need, rates);       // oldest first, the last closed bar last
   if(got < need)
     {
      Print("natron: ", got, " closed bars available, the model needs ", need);
      return;
     }
   string reply;
   if(!g_opened)
     {
      if(!Request(OpenMessage(rates, got), reply))
         return;
      g_opened = JsonString(reply, "type") == "opened";
      if(!g_opened)
        {
         Print("natron: ", JsonString(reply, "error"));
         g_last_bar = bar;                                      // tried again at the next bar
         return;
        }
     }
   if(!Request(UpdateMessage(rates[got - 1]), reply))           // after an open: the last bar again, which answers for it
      return;
   g_last_bar = bar;
   if(JsonString(reply, "type") != "prediction")
     {
      Print("natron: ", JsonString(reply, "error"));            // e.g. the session expired: open it again at the next bar
      g_opened = false;
      return;
     }
   double buy  = JsonNumber(reply, "buy_prob");
   double sell = JsonNumber(reply, "sell_prob");
   int target  = (buy >= BuyThreshold && buy > sell) ? 1 : (sell >= SellThreshold && sell > buy) ? -1 : 0;
   Comment(StringFormat("natron %s  buy %.3f  sell %.3f  direction %s (%.2f)  regime %s  ->  %s",
                        TimeToString(rates[got - 1].time), buy, sell, JsonString(reply, "direction"), JsonNumber(reply, "confidence"),
                        JsonString(reply, "regime"), target > 0 ? "LONG" : target < 0 ? "SHORT" : "FLAT"));
   if(EnableTrading)
      Rebalance(target);
  }
//+------------------------------------------------------------------+
